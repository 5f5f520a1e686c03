"""``/_security``: the service's API keys through Elasticsearch's security API, so the
official client's ``security.create_api_key``, ``get_api_key``, ``invalidate_api_key`` and
``authenticate`` work unchanged. Only ``manage`` keys may create, read or invalidate keys;
every key may ask who it is.

A key's rights come from ``role_descriptors`` as in Elasticsearch: ``cluster`` privileges
``manage_inference``, ``manage`` and ``all`` give the ``manage`` role, ``monitor_inference``
and ``monitor`` the ``monitor`` role. Our extension, in Elasticsearch's own shape for
application privileges, gives the ``infer`` role and restricts a key to some endpoints::

    {"applications": [{"application": "inference-service", "privileges": ["infer"],
                       "resources": ["chat-*", "e5"]}]}

A key has one role over one set of endpoints: descriptors are combined into the highest role
named, over the union of the resources named with it; a lower grant on endpoints the highest
one does not cover cannot be expressed and is refused. Without ``role_descriptors`` the new
key gets the creator's role and endpoints, as in Elasticsearch; with them it can get no more
than the creator has (403 otherwise). A key restricted to some endpoints lists and invalidates
only the keys it could have created (:func:`reach`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import current_key
from inference_service.api.bodies import decode_json, read_body
from inference_service.api.es.conventions import check_content_type, check_request, json_response, query_bool
from inference_service.api.state import services
from inference_service.auth.keys import ApiKey, epoch_ms
from inference_service.auth.manager import Reach
from inference_service.auth.roles import CREATE_API_KEY, EndpointScope, Role
from inference_service.errors import (
    ActionValidationError,
    AuthorizationError,
    InvalidRequestError,
    validation_failed,
)

APPLICATION = "inference-service"
CLUSTER_ROLES = {
    "all": Role.MANAGE,
    "manage": Role.MANAGE,
    "manage_inference": Role.MANAGE,
    "monitor": Role.MONITOR,
    "monitor_inference": Role.MONITOR,
}
_ROLE_PRIVILEGE = {Role.MANAGE: "manage_inference", Role.MONITOR: "monitor_inference"}


class ApplicationPrivileges(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    application: str
    privileges: list[str]
    resources: list[str] = msgspec.field(default_factory=lambda: ["*"])


class RoleDescriptor(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    cluster: list[str] = msgspec.field(default_factory=list)
    applications: list[ApplicationPrivileges] = msgspec.field(default_factory=list)


class CreateApiKeyBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    expiration: str | None = None
    role_descriptors: dict[str, RoleDescriptor] = msgspec.field(default_factory=dict)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class InvalidateApiKeyBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ids: list[str] | None = None
    id: str | None = None
    name: str | None = None


_CREATE = msgspec.json.Decoder(CreateApiKeyBody)
_INVALIDATE = msgspec.json.Decoder(InvalidateApiKeyBody)
Grant = tuple[Role, EndpointScope | None]


def _grants(descriptors: dict[str, RoleDescriptor]) -> list[Grant]:
    grants: list[Grant] = []
    for label, descriptor in descriptors.items():
        for privilege in descriptor.cluster:
            if privilege not in CLUSTER_ROLES:
                raise InvalidRequestError(
                    f"role descriptor [{label}]: unknown cluster privilege [{privilege}]; supported: "
                    f"[{', '.join(CLUSTER_ROLES)}] (the infer role and endpoint lists are application "
                    f"privileges of [{APPLICATION}])"
                )
            grants.append((CLUSTER_ROLES[privilege], None))
        for app in descriptor.applications:
            if app.application != APPLICATION:
                raise InvalidRequestError(
                    f"role descriptor [{label}]: unknown application [{app.application}]; only "
                    f"[{APPLICATION}] is served here"
                )
            scope = None if app.resources == ["*"] else EndpointScope.parse(app.resources)
            for privilege in app.privileges:
                if privilege not in tuple(Role):
                    raise InvalidRequestError(
                        f"role descriptor [{label}]: unknown privilege [{privilege}] of [{APPLICATION}]; "
                        f"supported: [{', '.join(Role)}]"
                    )
                grants.append((Role(privilege), scope))
    return grants


def combine(grants: list[Grant]) -> Grant:
    """One role over one set of endpoints for what the descriptors grant (see the module)."""
    if not grants:
        raise InvalidRequestError("role_descriptors grant nothing: name a cluster or application privilege")
    top = max(role.rank for role, _ in grants)
    highest = [scope for role, scope in grants if role.rank == top]
    role = next(role for role, _ in grants if role.rank == top)
    scope: EndpointScope | None = None
    if all(s is not None for s in highest):
        scope = EndpointScope.parse([p for s in highest if s is not None for p in s.patterns])
    for lower, lower_scope in grants:
        if lower.rank == top or scope is None:
            continue
        patterns = lower_scope.patterns if lower_scope is not None else ("*",)
        if lower_scope is None or not all(scope.covers(p) for p in patterns):
            raise InvalidRequestError(
                f"a key has one role over one set of endpoints: the [{lower}] grant on "
                f"[{', '.join(patterns)}] is not covered by the [{role}] grant on "
                f"[{', '.join(scope.patterns)}]"
            )
    return role, scope


def _limited_by(creator: ApiKey | None, role: Role, scope: EndpointScope | None) -> EndpointScope | None:
    """The new key's endpoints; 403 when it would get more than its creator has."""
    if creator is None:
        return scope
    own = ",".join(creator.scope.patterns) if creator.scope is not None else "*"
    refused = AuthorizationError(
        creator.id,
        CREATE_API_KEY.name,
        summary="create a key with more rights than its own",
        reason=(
            f"action [{CREATE_API_KEY.name}] is unauthorized for API key id [{creator.id}]: a new key "
            f"cannot have more than its creator's role [{creator.role}] on endpoints [{own}]"
        ),
    )
    if not creator.role.includes(role):
        raise refused
    if creator.scope is None:
        return scope
    if scope is None or not all(creator.scope.covers(p) for p in scope.patterns):
        raise refused
    return scope


def reach(caller: ApiKey | None) -> Reach | None:
    """The keys ``caller`` may see and invalidate (None: every key). A key restricted to some
    endpoints reaches only keys it could have created: no more than its role, on endpoints
    within its own. So it never lists, nor invalidates, an unrestricted key (the admin's) or a
    key on other endpoints; those are reported as not found."""
    if caller is None or caller.scope is None:
        return None
    own = caller.scope

    def within(key: ApiKey) -> bool:
        if key.scope is None or not caller.role.includes(key.role):
            return False
        return all(own.covers(p) for p in key.scope.patterns)

    return within


async def create_api_key(request: Request) -> Response:
    check_request(request, ("refresh",))
    state = services(request)
    body = decode_json(await _json_body(request, state.settings.max_body_bytes), _CREATE, "api_key")
    creator = current_key(request)
    if body.role_descriptors:
        role, scope = combine(_grants(body.role_descriptors))
        scope = _limited_by(creator, role, scope)
    else:
        role = creator.role if creator is not None else Role.MANAGE
        scope = creator.scope if creator is not None else None
    created = await state.api_keys.create(
        name=body.name,
        role=role,
        endpoints=scope.patterns if scope is not None else None,
        expiration=body.expiration,
        metadata=body.metadata,
        created_by=creator.id if creator is not None else None,
    )
    answer: dict[str, Any] = {"id": created.key.id, "name": created.key.name}
    if created.key.expiration is not None:
        answer["expiration"] = epoch_ms(created.key.expiration)
    answer.update(api_key=created.secret, encoded=created.encoded)
    return json_response(request, answer)


async def _json_body(request: Request, limit: int) -> bytes:
    body = await read_body(request, limit)
    if body.strip():
        check_content_type(request)
    return body or b"{}"


def role_descriptors(key: ApiKey) -> dict[str, Any]:
    """The key's rights written back as a role descriptor (the form it could be created with)."""
    if key.scope is None and key.role in _ROLE_PRIVILEGE:
        return {key.role.value: {"cluster": [_ROLE_PRIVILEGE[key.role]]}}
    resources = list(key.scope.patterns) if key.scope is not None else ["*"]
    application = {"application": APPLICATION, "privileges": [key.role.value], "resources": resources}
    return {key.role.value: {"applications": [application]}}


def render_key(key: ApiKey) -> dict[str, Any]:
    """A key as ``GET /_security/api_key`` lists it: never its secret or its hash."""
    shown: dict[str, Any] = {
        "id": key.id,
        "name": key.name,
        "type": "rest",
        "creation": epoch_ms(key.created_at),
    }
    if key.expiration is not None:
        shown["expiration"] = epoch_ms(key.expiration)
    shown["invalidated"] = key.invalidated_at is not None
    if key.invalidated_at is not None:
        shown["invalidation"] = epoch_ms(key.invalidated_at)
    shown.update(
        username=key.created_by or "_service",
        realm="_service",
        metadata=key.metadata,
        role_descriptors=role_descriptors(key),
        role=key.role.value,
        endpoints=list(key.endpoints) if key.endpoints is not None else None,
    )
    return shown


async def get_api_keys(request: Request) -> Response:
    """``?id=``, ``?name=`` (a trailing ``*`` matches a prefix), ``?active_only``."""
    check_request(request, ("id", "name", "active_only"))
    key_id = request.query_params.get("id")
    name = request.query_params.get("name")
    active_only = query_bool(request, "active_only")
    keys = await services(request).api_keys.find(
        ids=[key_id] if key_id is not None else None,
        name=name if name not in (None, "*") else None,
        within=reach(current_key(request)),
    )
    if active_only:
        now = datetime.now(UTC)
        keys = [k for k in keys if k.active(now)]
    return json_response(request, {"api_keys": [render_key(k) for k in keys]})


async def invalidate_api_keys(request: Request) -> Response:
    """``{"ids": [...]}`` (or ``"id"``) or ``{"name": ...}``; unknown ids are reported as
    errors in Elasticsearch's ``error_details``."""
    check_request(request)
    state = services(request)
    body = decode_json(
        await _json_body(request, state.settings.max_body_bytes), _INVALIDATE, "invalidate_api_key"
    )
    ids = body.ids if body.ids is not None else ([body.id] if body.id is not None else None)
    if (ids is None) == (body.name is None) or ids == []:
        raise ActionValidationError(validation_failed(["one of [ids] or [name] must be specified"]))
    outcome = await state.api_keys.invalidate(ids=ids, name=body.name, within=reach(current_key(request)))
    answer: dict[str, Any] = {
        "invalidated_api_keys": outcome.invalidated,
        "previously_invalidated_api_keys": outcome.previously_invalidated,
        "error_count": len(outcome.not_found),
    }
    if outcome.not_found:
        answer["error_details"] = [
            {"type": "resource_not_found_exception", "reason": f"api key [{i}] not found"}
            for i in outcome.not_found
        ]
    return json_response(request, answer)


async def authenticate(request: Request) -> Response:
    """Who the caller is: its key, or the anonymous ``manage`` caller of an open service."""
    check_request(request)
    key = current_key(request)
    if key is None:
        return json_response(
            request,
            {
                "username": "_anonymous",
                "roles": [Role.MANAGE.value],
                "full_name": None,
                "email": None,
                "metadata": {},
                "enabled": True,
                "authentication_type": "anonymous",
            },
        )
    realm = {"name": "_es_api_key", "type": "_es_api_key"}
    return json_response(
        request,
        {
            "username": key.name,
            "roles": [key.role.value],
            "full_name": None,
            "email": None,
            "metadata": key.metadata,
            "enabled": True,
            "authentication_realm": realm,
            "lookup_realm": realm,
            "authentication_type": "api_key",
            "api_key": {
                "id": key.id,
                "name": key.name,
                "role": key.role.value,
                "endpoints": list(key.endpoints) if key.endpoints is not None else None,
            },
        },
    )
