"""Roles include the ones below them; endpoint patterns (inference_service.auth.roles)."""

from __future__ import annotations

import pytest

from inference_service.auth.roles import (
    AUTHENTICATE,
    CREATE_API_KEY,
    GET_ENDPOINTS,
    INFER,
    PUT_ENDPOINT,
    EndpointScope,
    Role,
)
from inference_service.errors import InvalidRequestError


def test_each_role_includes_the_ones_below() -> None:
    assert [r for r in Role if r.includes(Role.MONITOR)] == [Role.MONITOR, Role.MANAGE]
    assert Role.INFER.includes(Role.INFER) and not Role.INFER.includes(Role.MONITOR)
    assert Role.MANAGE.includes(Role.INFER)


def test_actions_name_the_roles_that_grant_them() -> None:
    assert (PUT_ENDPOINT.needs, PUT_ENDPOINT.granted_by) == (Role.MANAGE, "manage")
    assert (GET_ENDPOINTS.needs, GET_ENDPOINTS.granted_by) == (Role.MONITOR, "monitor,manage")
    assert (INFER.needs, INFER.granted_by) == (Role.INFER, "infer,monitor,manage")
    assert CREATE_API_KEY.needs == Role.MANAGE and AUTHENTICATE.needs == Role.INFER
    assert (INFER.endpoint_param, GET_ENDPOINTS.endpoint_param) == ("inference_id", None)


def test_exact_ids_and_prefixes() -> None:
    scope = EndpointScope.parse(["e5", "chat-*", "e5"])
    assert scope.patterns == ("e5", "chat-*")
    assert [scope.allows(i) for i in ("e5", "e5x", "chat-", "chat-a", "cha")] == [
        True,
        False,
        True,
        True,
        False,
    ]


def test_covers() -> None:
    scope = EndpointScope.parse(["team-*", "solo"])
    assert scope.covers("team-a*") and scope.covers("team-x") and scope.covers("solo")
    assert not scope.covers("tea*") and not scope.covers("solo*") and not scope.covers("other")


@pytest.mark.parametrize("patterns", [[], [""], ["*"], ["a*b"], ["**"]])
def test_bad_patterns_are_refused(patterns: list[str]) -> None:
    with pytest.raises(InvalidRequestError):
        EndpointScope.parse(patterns)
