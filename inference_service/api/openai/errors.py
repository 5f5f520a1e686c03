"""How the OpenAI-compatible face shows errors: OpenAI's error object, with the error's status.

``{"error": {"message", "type", "param", "code"}}`` as the OpenAI API writes it: a provider's
own error keeps its type and code; the service's errors are ``invalid_request_error`` (4xx) or
``server_error`` (5xx), a missing endpoint (or one of another task type) is
``model_not_found``, and Starlette's 404/405 are OpenAI's "Unknown request URL".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from inference_service.errors import (
    AuthenticationError,
    AuthorizationError,
    BadRequestError,
    EndpointNotFoundError,
    InferenceServiceError,
    MethodNotAllowedError,
    MissingCredentialsError,
    NotFoundError,
    UnsupportedError,
    UpstreamError,
    status_code_name,
)
from inference_service.inference.record import note_error
from inference_service.model.task_type import TaskType

if TYPE_CHECKING:
    from inference_service.endpoints.catalog import ResolvedEndpoint
    from inference_service.inference.service import InferenceService
    from inference_service.providers.base import EndpointConfig

_ENCODER = msgspec.json.Encoder()
JSON = "application/json"


OPENAI_NAMES = {"reasoning": "reasoning_effort"}
"""Unified request fields a provider may refuse, by the name a ``/v1`` client sent them under
(``reasoning_effort`` is the unified ``reasoning.effort``)."""


def model_not_found(model: str, task_type: str) -> NotFoundError:
    """No endpoint of the task type the path serves by that ``model`` (an inference id)."""
    return NotFoundError(
        f"The model `{model}` does not exist or is not a {task_type} endpoint",
        code="model_not_found",
        param="model",
    )


def with_user(inference: InferenceService, target: ResolvedEndpoint, user: str | None) -> EndpointConfig:
    """The endpoint's configuration with the request's ``user`` in its task settings for this
    call; a 400 naming ``user`` where the service's task settings take none."""
    if user is None:
        return target.config
    try:
        return inference.configure(target, {"user": user})
    except BadRequestError as exc:
        raise UnsupportedError(
            f"[user] is not supported by the [{target.endpoint.service}] service: {exc.reason}", param="user"
        ) from None


async def resolve_model(inference: InferenceService, model: str, task_type: TaskType) -> ResolvedEndpoint:
    """The endpoint ``model`` names, if it is one of ``task_type``: else 404 ``model_not_found``
    in one wording, whether there is no such endpoint or it serves another task."""
    try:
        target = await inference.resolve(model)
    except EndpointNotFoundError:
        raise model_not_found(model, task_type) from None
    if target.endpoint.task_type != task_type:
        raise model_not_found(model, task_type)
    return target


def openai_error_body(exc: InferenceServiceError) -> dict[str, Any]:
    note_error(exc)
    if isinstance(exc, UpstreamError):
        kind = exc.error_type
    else:
        kind = "invalid_request_error" if exc.status < 500 else "server_error"
    code = exc.code
    if code is None and isinstance(exc, EndpointNotFoundError):
        code = "model_not_found"  # the model named in a request is an inference id
    if code is None and not isinstance(exc, UpstreamError):
        code = status_code_name(exc.status)
    message, param = _message(exc), exc.param
    if param is not None and param.split(".")[0] in OPENAI_NAMES:
        unified = param.split(".")[0]
        message = message.replace(f"[{unified}]", f"[{OPENAI_NAMES[unified]}]")
        param = OPENAI_NAMES[unified] + param[len(unified) :]
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _message(exc: InferenceServiceError) -> str:
    """The reason, in this face's words where it has its own (never the credentials)."""
    if isinstance(exc, MissingCredentialsError):
        return "No API key provided: send it as the header `Authorization: Bearer <encoded key>`"
    if isinstance(exc, AuthenticationError):
        return f"Incorrect API key provided: {exc.detail}" if exc.detail else "Incorrect API key provided"
    if isinstance(exc, AuthorizationError):
        return f"The API key [{exc.key_id}] may not {exc.summary}"
    return exc.reason


def render_error(request: Request, exc: InferenceServiceError) -> Response:
    return Response(
        _ENCODER.encode(openai_error_body(exc)),
        status_code=exc.status,
        media_type=JSON,
        headers=retry_headers(exc),
    )


def retry_headers(exc: InferenceServiceError) -> dict[str, str]:
    """``Retry-After`` when the error carries one (the provider's with its refusal, after too
    many failed authentication attempts, an idempotency key in flight); ``WWW-Authenticate``
    on a 401."""
    retry = exc.retry_after
    headers = {"retry-after": retry} if retry else {}
    if isinstance(exc, AuthenticationError):
        headers["www-authenticate"] = "Bearer"
    return headers


def routing_error(request: Request, exc: HTTPException) -> InferenceServiceError:
    message = (
        f"Unknown request URL: {request.method} {request.url.path}. Please check the URL for typos, "
        "or see the README's OpenAI-compatible API section."
    )
    return MethodNotAllowedError(message) if exc.status_code == 405 else NotFoundError(message)
