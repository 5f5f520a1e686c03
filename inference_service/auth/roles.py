"""Roles, the actions routes declare, and endpoint restrictions.

Three roles, each including the one below it: ``manage`` (everything, API keys included),
``monitor`` (read endpoints and perform inference), ``infer`` (perform inference only). Each
route declares the :class:`Action` it performs; the action names are Elasticsearch's
(``cluster:admin/xpack/inference/put``...) so refusals read like Elasticsearch's own.

A key may be restricted to some inference ids: exact ids and ``prefix*`` patterns
(:class:`EndpointScope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from inference_service.errors import InvalidRequestError


class Role(StrEnum):
    INFER = "infer"
    MONITOR = "monitor"
    MANAGE = "manage"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANKS = {Role.INFER: 0, Role.MONITOR: 1, Role.MANAGE: 2}
ROLES = tuple(Role)


@dataclass(frozen=True, slots=True)
class Action:
    """What a route does: its Elasticsearch action name and the least role allowed to."""

    name: str
    needs: Role
    summary: str
    """In words, for the OpenAI face's refusals ("create inference endpoints")."""
    endpoint_param: str | None = None
    """The path parameter naming the inference id the action is on, checked against the key's
    endpoints before the handler runs (before the body is read)."""

    @property
    def granted_by(self) -> str:
        return ",".join(role for role in ROLES if role.includes(self.needs))


PUT_ENDPOINT = Action(
    "cluster:admin/xpack/inference/put", Role.MANAGE, "create inference endpoints", "inference_id"
)
UPDATE_ENDPOINT = Action(
    "cluster:admin/xpack/inference/update", Role.MANAGE, "update inference endpoints", "inference_id"
)
DELETE_ENDPOINT = Action(
    "cluster:admin/xpack/inference/delete", Role.MANAGE, "delete inference endpoints", "inference_id"
)
GET_ENDPOINTS = Action("cluster:monitor/xpack/inference/get", Role.MONITOR, "read inference endpoints")
INFER = Action("cluster:monitor/xpack/inference/post", Role.INFER, "perform inference", "inference_id")
INFER_BY_MODEL = Action("cluster:monitor/xpack/inference/post", Role.INFER, "perform inference")
"""The ``/v1`` form: the inference id is the body's ``model``, checked once it is decoded."""
GET_SERVICES = Action("cluster:monitor/xpack/inference/services/get", Role.MONITOR, "read inference services")
READ_METRICS = Action("cluster:monitor/inference/metrics", Role.MONITOR, "read metrics")
READ_USAGE = Action("cluster:monitor/inference/usage", Role.MONITOR, "read usage")
"""A key restricted to some endpoints reads only their usage (:mod:`inference_service.api.es.usage`)."""
LIST_MODELS = Action("cluster:monitor/xpack/inference/get", Role.MONITOR, "list models")
GET_MODEL = Action("cluster:monitor/xpack/inference/get", Role.MONITOR, "read models", "model")
CREATE_API_KEY = Action("cluster:admin/xpack/security/api_key/create", Role.MANAGE, "create API keys")
GET_API_KEYS = Action("cluster:admin/xpack/security/api_key/get", Role.MANAGE, "read API keys")
INVALIDATE_API_KEYS = Action(
    "cluster:admin/xpack/security/api_key/invalidate", Role.MANAGE, "invalidate API keys"
)
AUTHENTICATE = Action("cluster:admin/xpack/security/user/authenticate", Role.INFER, "authenticate")
"""Every key may ask who it is, as in Elasticsearch."""


@dataclass(frozen=True, slots=True)
class EndpointScope:
    """The inference ids a key may use: exact ids and ``prefix*`` patterns."""

    patterns: tuple[str, ...]
    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def parse(cls, patterns: list[str] | tuple[str, ...]) -> EndpointScope:
        """Checked patterns (400 naming the bad one); ``*`` alone is refused: no list means all."""
        if not patterns:
            raise InvalidRequestError(
                "the endpoints list must not be empty (omit it to allow every endpoint)"
            )
        for pattern in patterns:
            if not pattern or "*" in pattern[:-1] or pattern == "*":
                raise InvalidRequestError(
                    f"invalid endpoint pattern [{pattern}]: use an inference id or a prefix ending in a "
                    "single trailing '*' (omit the list to allow every endpoint)"
                )
        ordered = tuple(dict.fromkeys(patterns))
        return cls(
            patterns=ordered,
            exact=frozenset(p for p in ordered if not p.endswith("*")),
            prefixes=tuple(p[:-1] for p in ordered if p.endswith("*")),
        )

    def allows(self, inference_id: str) -> bool:
        return inference_id in self.exact or inference_id.startswith(self.prefixes)

    def covers(self, pattern: str) -> bool:
        """Whether every id ``pattern`` matches is allowed here."""
        if pattern.endswith("*"):
            return pattern[:-1].startswith(self.prefixes)
        return self.allows(pattern)
