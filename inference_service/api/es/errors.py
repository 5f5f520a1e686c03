"""How the Elasticsearch face shows errors: the only place they become its JSON.

Two bodies, as Elasticsearch has them: :func:`es_error_body`, the envelope of the management
API and of ``completion`` (``{"error": {root_cause, type, reason}, "status"}``), and
:func:`unified_error_body`, the OpenAI-style body of the ``chat_completion`` path
(``{"error": {code, message, type, param}}``, ``code`` derived from the status as in
``UnifiedCompletionException.fromThrowable``). Starlette's own 404/405 become Elasticsearch's
"no handler found" 400 and "Incorrect HTTP method" 405 here.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.es.conventions import json_response
from inference_service.errors import (
    AuthenticationError,
    IllegalArgumentError,
    InferenceServiceError,
    MethodNotAllowedError,
    status_code_name,
)
from inference_service.inference.record import note_error

_ENCODER = msgspec.json.Encoder()


def _cause(exc: InferenceServiceError) -> dict[str, Any]:
    body: dict[str, Any] = {"type": exc.error_type, "reason": exc.reason}
    if exc.caused_by is not None:
        body["caused_by"] = _cause(exc.caused_by)
    return body


def _root_cause(exc: InferenceServiceError) -> InferenceServiceError:
    while exc.caused_by is not None:
        exc = exc.caused_by
    return exc


def es_error_body(exc: InferenceServiceError) -> dict[str, Any]:
    """The Elasticsearch error envelope: ``{"error": {root_cause, type, reason}, "status"}``."""
    note_error(exc)
    root = _root_cause(exc)
    error = _cause(exc)
    error_with_root = {"root_cause": [{"type": root.error_type, "reason": root.reason}], **error}
    return {"error": error_with_root, "status": exc.status}


def unified_error_body(exc: InferenceServiceError, *, mid_stream: bool = False) -> dict[str, Any]:
    """The OpenAI-style body of the chat_completion path; ``param`` omitted when null."""
    note_error(exc)
    code = exc.code or ("stream_error" if mid_stream else status_code_name(exc.status))
    error: dict[str, Any] = {"code": code, "message": exc.reason, "type": exc.error_type}
    if exc.param is not None:
        error["param"] = exc.param
    return {"error": error}


def render_unified(exc: InferenceServiceError, started: bool) -> bytes:
    """An SSE error frame's data on the chat path (``started``: after the first chunk)."""
    return _ENCODER.encode(unified_error_body(exc, mid_stream=started))


def render_es(exc: InferenceServiceError, started: bool) -> bytes:
    """An SSE error frame's data on the completion path."""
    return _ENCODER.encode(es_error_body(exc))


WWW_AUTHENTICATE = "ApiKey"
"""The scheme a 401 asks for (``Bearer`` with the same credential is accepted too)."""


def render_error(request: Request, exc: InferenceServiceError) -> Response:
    """A JSON error response in the Elasticsearch envelope, with ``Retry-After`` when the
    error carries one (a provider's, the failed-attempt limit's, a key in flight) and, on a
    401, ``WWW-Authenticate`` (also in the body's ``header``, as Elasticsearch writes it)."""
    body = es_error_body(exc)
    headers: dict[str, str] = {}
    retry = exc.retry_after
    if retry:
        headers["retry-after"] = retry
    if isinstance(exc, AuthenticationError):
        headers["www-authenticate"] = WWW_AUTHENTICATE
        extra: dict[str, Any] = {"header": {"WWW-Authenticate": [WWW_AUTHENTICATE]}}
        if exc.detail is not None:
            extra["additional_unsuccessful_credentials"] = f"API key: {exc.detail}"
        body["error"]["root_cause"][0].update(extra)
        body["error"].update(extra)
    return json_response(request, body, status=exc.status, headers=headers or None)


def routing_error(request: Request, exc: HTTPException) -> InferenceServiceError:
    """Starlette's 404 (no route) and 405 (route, wrong method) in Elasticsearch's words."""
    if exc.status_code == 405:
        allowed = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip() != "HEAD"]
        return MethodNotAllowedError(
            f"Incorrect HTTP method for uri [{request.url.path}] and method [{request.method}], "
            f"allowed: [{', '.join(sorted(allowed))}]"
        )
    return IllegalArgumentError(
        f"no handler found for uri [{request.url.path}] and method [{request.method}]"
    )
