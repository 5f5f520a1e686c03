"""The one exception hierarchy, and the only two places it becomes JSON.

Every failure a client can see is an :class:`InferenceServiceError`. Each class carries its
HTTP ``status`` and its Elasticsearch exception ``es_type`` as class attributes, so code that
raises only says *what* went wrong; this module decides how it looks on the wire::

    InferenceServiceError            500 status_exception
    ├─ InvalidRequestError           400 validation_exception (es_type varies by what failed)
    ├─ UnsupportedError              400 status_exception
    ├─ TaskTypeMismatchError         400 status_exception
    ├─ EndpointExistsError           400 resource_already_exists_exception
    ├─ EndpointNotFoundError         404 resource_not_found_exception
    ├─ MethodNotAllowedError         405 status_exception
    ├─ NotAcceptableError            406 status_exception (content type not supported)
    ├─ RequestTimeoutError           408 status_exception
    ├─ VersionConflictError          409 version_conflict_engine_exception
    ├─ PayloadTooLargeError          413 status_exception
    └─ UpstreamError                 the provider's status (5xx become 502)
       ├─ UpstreamConnectionError    502
       └─ UpstreamTimeoutError       504

Two renderers: :func:`es_error_body` (the Elasticsearch envelope, management API and
``completion``) and :func:`unified_error_body` (the OpenAI-style body of the
``chat_completion`` path, reference §3.3).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar


class InferenceServiceError(Exception):
    """Base of every client-visible error. ``reason`` is safe to show: never a secret."""

    status: ClassVar[int] = 500
    es_type: ClassVar[str] = "status_exception"

    def __init__(
        self,
        reason: str,
        *,
        es_type: str | None = None,
        status: int | None = None,
        caused_by: InferenceServiceError | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        if es_type is not None:
            self.es_type = es_type  # type: ignore[misc]
        if status is not None:
            self.status = status  # type: ignore[misc]
        self.caused_by = caused_by
        self.code = code
        self.param = param

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, reason={self.reason!r})"


class InvalidRequestError(InferenceServiceError):
    """The request is malformed or fails validation (the reason names the field)."""

    status = 400
    es_type = "validation_exception"


class UnsupportedError(InferenceServiceError):
    """Well-formed, but the service or provider cannot do it."""

    status = 400


class TaskTypeMismatchError(InferenceServiceError):
    status = 400


class EndpointExistsError(InferenceServiceError):
    status = 400
    es_type = "resource_already_exists_exception"

    def __init__(self, inference_id: str) -> None:
        super().__init__(f"Inference endpoint [{inference_id}] already exists")


class EndpointNotFoundError(InferenceServiceError):
    status = 404
    es_type = "resource_not_found_exception"

    def __init__(self, inference_id: str) -> None:
        super().__init__(f"Inference endpoint not found [{inference_id}]")


class MethodNotAllowedError(InferenceServiceError):
    status = 405


class NotAcceptableError(InferenceServiceError):
    status = 406


class RequestTimeoutError(InferenceServiceError):
    status = 408


class VersionConflictError(InferenceServiceError):
    status = 409
    es_type = "version_conflict_engine_exception"


class PayloadTooLargeError(InferenceServiceError):
    status = 413


class UpstreamError(InferenceServiceError):
    """The provider answered with an error. Keeps its ``type``/``code``/``param``."""

    status = 502


class UpstreamConnectionError(UpstreamError):
    status = 502


class UpstreamTimeoutError(UpstreamError):
    status = 504


def status_code_name(status: int) -> str:
    """``408`` -> ``request_timeout``: the ``code`` Elasticsearch derives from a status."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "internal_server_error"


def _cause(exc: InferenceServiceError) -> dict[str, Any]:
    body: dict[str, Any] = {"type": exc.es_type, "reason": exc.reason}
    if exc.caused_by is not None:
        body["caused_by"] = _cause(exc.caused_by)
    return body


def _root_cause(exc: InferenceServiceError) -> InferenceServiceError:
    while exc.caused_by is not None:
        exc = exc.caused_by
    return exc


def es_error_body(exc: InferenceServiceError) -> dict[str, Any]:
    """The Elasticsearch error envelope: ``{"error": {root_cause, type, reason}, "status"}``."""
    root = _root_cause(exc)
    error = _cause(exc)
    error_with_root = {"root_cause": [{"type": root.es_type, "reason": root.reason}], **error}
    return {"error": error_with_root, "status": exc.status}


def unified_error_body(exc: InferenceServiceError, *, mid_stream: bool = False) -> dict[str, Any]:
    """The OpenAI-style body of the chat_completion path; ``code``/``param`` omitted when null."""
    code = exc.code or ("stream_error" if mid_stream else status_code_name(exc.status))
    error: dict[str, Any] = {"code": code, "message": exc.reason, "type": exc.es_type}
    if exc.param is not None:
        error["param"] = exc.param
    return {"error": error}


INTERNAL_ERROR_REASON = "Internal error; see the service log for details"
