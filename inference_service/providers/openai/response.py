"""OpenAI stream events and error bodies -> unified chunks and upstream errors (pure).

Chunks decode straight into the unified :class:`ChatCompletionChunk`: it ignores the fields
Elasticsearch drops (``created``, ``system_fingerprint``, ``logprobs``, ``service_tier``) and
its ``omit_defaults`` leaves out the nulls OpenAI sends, so re-encoding gives Elasticsearch's
bytes. A mid-stream error arrives as ``data: {"error": {...}}`` (or an ``event: error``); a
frame that is neither a chunk nor an error is malformed and ends the stream with an error.
"""

from __future__ import annotations

import msgspec

from inference_service.errors import MalformedUpstreamError, UpstreamError
from inference_service.model.chat import ChatCompletionChunk
from inference_service.providers.http import Terminator, upstream_reason, upstream_status
from inference_service.sse_decoder import ServerSentEvent

DONE = "[DONE]"


class OpenAiError(msgspec.Struct):
    message: str = ""
    type: str | None = None
    param: str | None = None
    code: str | int | None = None


class OpenAiErrorBody(msgspec.Struct):
    error: OpenAiError


_CHUNK = msgspec.json.Decoder(ChatCompletionChunk)
_ERROR = msgspec.json.Decoder(OpenAiErrorBody)


def _decode_error(data: str | bytes) -> OpenAiError | None:
    try:
        return _ERROR.decode(data).error
    except msgspec.DecodeError:
        return None


def is_done(event: ServerSentEvent) -> bool:
    return event.data == DONE


TERMINATOR = Terminator("[DONE]", is_done)


def parse_openai_event(event: ServerSentEvent, inference_id: str) -> ChatCompletionChunk | None:
    """One upstream event -> a chunk, or None for ``[DONE]``; errors and garbage raise."""
    data = event.data
    if data == DONE:
        return None
    if event.event != "error":
        try:
            return _CHUNK.decode(data)
        except msgspec.DecodeError as exc:
            failure = _decode_error(data)
            if failure is None:
                raise MalformedUpstreamError(
                    f"The provider sent a malformed event for inference entity id [{inference_id}]: {exc}"
                ) from None
    else:
        failure = _decode_error(data) or OpenAiError(message=data)
    raise UpstreamError(
        f"Received an error response for request from inference entity id [{inference_id}]. "
        f"Error message: [{failure.message}]",
        error_type=failure.type or "error",
        code=None if failure.code is None else str(failure.code),
        param=failure.param,
    )


def parse_openai_error(status: int, body: bytes, inference_id: str, url: str) -> UpstreamError:
    """A non-2xx answer -> an error keeping the provider's status, message, type and code."""
    failure = _decode_error(body)
    if failure is None:
        text = body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}"
        failure = OpenAiError(message=text)
    return UpstreamError(
        upstream_reason(status, inference_id, url, failure.message),
        status=upstream_status(status),
        error_type=failure.type or "status_exception",
        code=None if failure.code is None else str(failure.code),
        param=failure.param,
    )
