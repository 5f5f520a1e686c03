"""Authentication and authorization in front of every handler, for both faces.

:func:`~inference_service.api.routing.resource` calls :func:`authorize` with the
:class:`~inference_service.auth.roles.Action` the route declares before the handler runs: the
``Authorization`` header is checked against the worker's key ring (a dict lookup once
verified), the key's role against the action, and, when the action names a path parameter,
that inference id against the key's endpoints, all before the body is read. Handlers that
learn the inference id later (``/v1``: the body's ``model``) call :func:`authorize_endpoint`
before resolving it; listings keep what :func:`allows_endpoint` allows.

The key in use is kept in the request's scope (:func:`current_key`); it is None when the
service is open (``auth = off``, or ``auto`` before the first key exists).
"""

from __future__ import annotations

from starlette.requests import Request

from inference_service.api.state import services
from inference_service.auth.keys import ApiKey
from inference_service.auth.roles import Action, EndpointScope
from inference_service.errors import AuthorizationError, MissingCredentialsError
from inference_service.inference.record import peek_record

SCOPE_KEY = "inference_service.api_key"


def authorize(request: Request, action: Action) -> None:
    """401/403/429 unless the request may perform ``action``."""
    ring = services(request).keys
    if ring.open:
        request.scope[SCOPE_KEY] = None
        return
    header = request.headers.get("authorization")
    if header is None:
        raise MissingCredentialsError(request.url.path)
    client = request.client.host if request.client is not None else "unknown"
    key = ring.authenticate(header, client)
    request.scope[SCOPE_KEY] = key
    record = peek_record()
    if record is not None:
        record.api_key_id = key.id
    if not key.role.includes(action.needs):
        raise AuthorizationError(key.id, action.name, summary=action.summary, granted_by=action.granted_by)
    if action.endpoint_param is not None and key.scope is not None:
        _check_endpoint(key, key.scope, action, request.path_params[action.endpoint_param])


def current_key(request: Request) -> ApiKey | None:
    """The key :func:`authorize` accepted for this request (None: the service is open)."""
    key: ApiKey | None = request.scope.get(SCOPE_KEY)
    return key


def allows_endpoint(request: Request, inference_id: str) -> bool:
    key = current_key(request)
    return key is None or key.scope is None or key.scope.allows(inference_id)


def authorize_endpoint(request: Request, action: Action, inference_id: str) -> None:
    """403 unless the request's key may use ``inference_id``."""
    key = current_key(request)
    if key is not None and key.scope is not None:
        _check_endpoint(key, key.scope, action, inference_id)


def _check_endpoint(key: ApiKey, scope: EndpointScope, action: Action, inference_id: str) -> None:
    if not scope.allows(inference_id):
        raise AuthorizationError(
            key.id, action.name, summary=f"use the endpoint [{inference_id}]", inference_id=inference_id
        )
