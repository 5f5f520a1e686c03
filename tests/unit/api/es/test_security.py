"""Role descriptors -> one role over one set of endpoints (inference_service.api.es.security)."""

from __future__ import annotations

import msgspec
import pytest

from inference_service.api.es.security import RoleDescriptor, _grants, combine, role_descriptors
from inference_service.auth.keys import ApiKey
from inference_service.auth.roles import EndpointScope, Role
from inference_service.errors import InvalidRequestError


def rights(descriptors: dict[str, object]) -> tuple[Role, tuple[str, ...] | None]:
    decoded = msgspec.convert(descriptors, dict[str, RoleDescriptor])
    role, scope = combine(_grants(decoded))
    return role, scope.patterns if scope is not None else None


def app(privilege: str, *resources: str) -> dict[str, object]:
    entry: dict[str, object] = {"application": "inference-service", "privileges": [privilege]}
    if resources:
        entry["resources"] = list(resources)
    return {"applications": [entry]}


@pytest.mark.parametrize(
    ("cluster", "role"),
    [
        ("manage_inference", Role.MANAGE),
        ("manage", Role.MANAGE),
        ("all", Role.MANAGE),
        ("monitor_inference", Role.MONITOR),
        ("monitor", Role.MONITOR),
    ],
)
def test_cluster_privileges(cluster: str, role: Role) -> None:
    assert rights({"r": {"cluster": [cluster]}}) == (role, None)


def test_application_privileges_give_infer_and_endpoint_lists() -> None:
    assert rights({"r": app("infer")}) == (Role.INFER, None)
    assert rights({"r": app("infer", "chat-*", "e5")}) == (Role.INFER, ("chat-*", "e5"))
    assert rights({"a": app("monitor", "a*"), "b": app("monitor", "b")}) == (Role.MONITOR, ("a*", "b"))


def test_the_highest_grant_wins_when_it_covers_the_others() -> None:
    assert rights({"a": {"cluster": ["monitor_inference"]}, "b": app("infer", "x*")}) == (Role.MONITOR, None)
    assert rights({"a": app("manage", "x*"), "b": app("infer", "x-1")}) == (Role.MANAGE, ("x*",))


def test_grants_that_one_role_cannot_express_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match=r"the \[infer\] grant on \[\*\] is not covered"):
        rights({"a": app("monitor", "a*"), "b": app("infer")})
    with pytest.raises(InvalidRequestError, match="grant nothing"):
        rights({"r": {}})


def test_rights_written_back_as_descriptors() -> None:
    def key(role: Role, scope: EndpointScope | None) -> ApiKey:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        return ApiKey(
            id="i",
            name="n",
            role=role,
            scope=scope,
            metadata={},
            secret_hash=b"",
            created_by=None,
            created_at=now,
            expiration=None,
            invalidated_at=None,
        )

    assert role_descriptors(key(Role.MANAGE, None)) == {"manage": {"cluster": ["manage_inference"]}}
    restricted = role_descriptors(key(Role.MONITOR, EndpointScope.parse(["a*"])))
    assert restricted == {
        "monitor": {
            "applications": [
                {"application": "inference-service", "privileges": ["monitor"], "resources": ["a*"]}
            ]
        }
    }
    written = role_descriptors(key(Role.INFER, None))
    assert rights(written) == (Role.INFER, None)
