"""The SDK's errors, and the one place that turns the service's error bodies into them.

::

    InferenceServiceError            base of everything the SDK raises for a failed call
    ├─ APIConnectionError            the service could not be reached, the connection broke, or
    │  │                             a stream ended without ``[DONE]``
    │  └─ APITimeoutError            the call's timeout passed with no answer
    └─ APIStatusError                the service answered with an error (.status .type .reason .body)
       ├─ BadRequestError            400 (.param: the JSON path of the offending field, when known)
       ├─ AuthenticationError        401
       ├─ PermissionDeniedError      403
       ├─ NotFoundError              404
       ├─ RequestTimeoutError        408 (the service's own deadline: the provider was too slow)
       ├─ ConflictError              409
       ├─ RateLimitError             429 (.retry_after in seconds, when the service said)
       └─ InternalServerError        5xx

The class is chosen by the HTTP status alone (the status of the response, or for an error
frame inside a stream, the one the frame names). The service answers in two bodies, both read
here: Elasticsearch's envelope ``{"error": {"type", "reason", ...}, "status"}`` and the
OpenAI-style body of the chat path ``{"error": {"code", "message", "type", "param"}}``; before a
stream starts either may arrive framed as one ``event: error`` Server-Sent Event.

These classes are the SDK's own: ``inference_service.client.InferenceServiceError`` is not the
server's ``inference_service.errors.InferenceServiceError``.
"""

from __future__ import annotations

import contextlib
from http import HTTPStatus
from typing import Any

import msgspec

from inference_service.retry_after import parse_retry_after
from inference_service.sse_decoder import SSEDecoder, TruncatedStreamError

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InferenceServiceError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
]

_MAX_TEXT = 2000
"""How much of a body that is not JSON is kept as the reason."""


class InferenceServiceError(Exception):
    """Base of every error the SDK raises for a call that failed."""


class APIConnectionError(InferenceServiceError):
    """No answer: the service could not be reached, the connection broke, or a stream ended
    before its ``[DONE]`` frame (an answer cut short is never a silent end)."""


class APITimeoutError(APIConnectionError):
    """The call's timeout passed before the service answered (or between two stream chunks)."""


class APIStatusError(InferenceServiceError):
    """The service answered with an error status.

    ``status`` is the HTTP status, ``type`` the error type (``resource_not_found_exception``,
    ``validation_exception``, a provider's type...), ``reason`` the message, ``body`` the
    decoded error body (the JSON object, or the text when it was not JSON), ``code`` the
    OpenAI-style code of the chat path when there is one.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int,
        type: str | None = None,
        body: Any = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(f"{status} {type}: {reason}" if type else f"{status}: {reason}")
        self.status = status
        self.type = type
        self.reason = reason
        self.body = body
        self.code = code
        self.param = param

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, type={self.type!r}, reason={self.reason!r})"


class BadRequestError(APIStatusError):
    """400: the request is invalid; ``param`` names the offending field when the service did."""


class AuthenticationError(APIStatusError):
    """401: no API key, or one the service does not accept."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such inference endpoint (or path)."""


class RequestTimeoutError(APIStatusError):
    """408: the service gave up waiting for the provider within the call's timeout."""


class ConflictError(APIStatusError):
    """409: the endpoint changed concurrently (retry), or another conflict. The service's
    "Idempotency-Key still in flight" 409 (sent with ``Retry-After``) is retried by the SDK and
    raised only when the retries or the call's timeout run out."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the service's advice in seconds, if any."""

    def __init__(self, reason: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(reason, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the service or its provider failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    429: RateLimitError,
}

_STATUS_BY_CODE = {
    status.phrase.lower().replace(" ", "_").replace("-", "_"): status.value for status in HTTPStatus
}
"""``request_timeout`` -> 408: the chat path's ``code`` is the status name when no provider
code replaced it (as Elasticsearch derives it)."""


def status_error(status: int, body: Any, *, retry_after: str | None = None) -> APIStatusError:
    """The error for ``status`` and a decoded error ``body`` (either of the service's shapes)."""
    type_: str | None = None
    code: str | None = None
    param: str | None = None
    reason: str | None = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        raw_type = error.get("type")
        type_ = raw_type if isinstance(raw_type, str) else None
        message = error.get("reason", error.get("message"))
        reason = message if isinstance(message, str) else None
        raw_code = error.get("code")
        code = raw_code if isinstance(raw_code, str) else None
        raw_param = error.get("param")
        param = raw_param if isinstance(raw_param, str) else None
    elif isinstance(error, str):
        reason = error
    elif isinstance(body, str) and body:
        reason = body[:_MAX_TEXT]
    if reason is None:
        reason = _phrase(status)
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    kwargs: dict[str, Any] = {"status": status, "type": type_, "body": body, "code": code, "param": param}
    if cls is RateLimitError:
        return RateLimitError(reason, retry_after=parse_retry_after(retry_after), **kwargs)
    return cls(reason, **kwargs)


def response_error(
    status: int, content: bytes, content_type: str | None, retry_after: str | None = None
) -> APIStatusError:
    """The error of a whole error response: JSON, one ``event: error`` frame, or plain text."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    data: bytes | str = content
    if media == "text/event-stream":
        data = _first_event_data(content)
    return status_error(status, _decode(data), retry_after=retry_after)


def frame_error(data: Any) -> APIStatusError:
    """The error of an error frame inside a stream that had started (HTTP status 200).

    Its status is the frame's own: ``status`` in Elasticsearch's envelope, else the chat
    path's ``code`` when it is a status name; otherwise 500, a failure of the service or its
    provider (a frame such as ``"code": "stream_error"`` names no status).
    """
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, int) or not 400 <= status <= 599:
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        status = _STATUS_BY_CODE.get(code, 500) if isinstance(code, str) else 500
    return status_error(status, data)


def _first_event_data(content: bytes) -> str:
    decoder = SSEDecoder()
    events = decoder.feed(content)
    with contextlib.suppress(TruncatedStreamError):  # cut short: what arrived is still the reason
        decoder.close()
    return events[0].data if events else content.decode("utf-8", "replace")


def _decode(data: bytes | str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        return text.strip()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP status {status}"
