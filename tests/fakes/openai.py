"""Byte-exact OpenAI Chat Completions (``POST /v1/chat/completions``) responses.

Streams are ``data: {json}\\n\\n`` frames of ``chat.completion.chunk`` objects in the API's own
order: a first delta with ``role`` (``content: ""`` for text, ``content: null`` + the first tool
call header for a tool-only answer), content deltas, tool-call deltas (header with ``id``, ``type``,
``name`` and ``arguments: ""``, then ``arguments`` fragments), a finish chunk with an empty delta,
with ``stream_options.include_usage`` a usage chunk with ``choices: []`` (every other chunk then
carries ``"usage":null``), and ``data: [DONE]``. A mid-stream failure is a ``data:`` frame holding
``{"error":{...}}`` and the stream ends without ``[DONE]``. JSON is compact, keys in wire order.

Non-streaming bodies are pretty-printed as the API sends them: 2-space indent for a
``chat.completion``, 4-space indent plus a newline for an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.server import End, Reply
from tests.fakes.sse import frame

__all__ = [
    "CHUNK_ID",
    "CREATED",
    "DONE",
    "ERROR_HEADERS",
    "FINGERPRINT",
    "JSON_HEADERS",
    "MALFORMED_FRAME",
    "MODEL",
    "STREAM_HEADERS",
    "ToolCall",
    "chunks",
    "completion",
    "completion_reply",
    "error_body",
    "error_frame",
    "error_reply",
    "invalid_api_key",
    "model_not_found",
    "rate_limit_exceeded",
    "server_error",
    "stream",
    "stream_reply",
    "usage",
]

CHUNK_ID = "chatcmpl-123"
CREATED = 1694268190
MODEL = "gpt-4o-mini"
FINGERPRINT = "fp_44709d6fcb"
DONE = b"data: [DONE]\n\n"
MALFORMED_FRAME = b'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","choices":[{"index":0,\n\n'

STREAM_HEADERS = (
    ("content-type", "text/event-stream; charset=utf-8"),
    ("openai-version", "2020-10-01"),
    ("openai-processing-ms", "187"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
)
JSON_HEADERS = (
    ("content-type", "application/json"),
    ("openai-version", "2020-10-01"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
)
ERROR_HEADERS = (
    ("content-type", "application/json; charset=utf-8"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
)


@dataclass(frozen=True)
class ToolCall:
    """A function call as the model streams it: ``arguments`` are the fragments, in order."""

    id: str
    name: str
    arguments: Sequence[str] = ()

    @property
    def full_arguments(self) -> str:
        return "".join(self.arguments)


def usage(
    prompt_tokens: int = 9,
    completion_tokens: int = 12,
    *,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
    details: bool = True,
) -> dict[str, Any]:
    """A ``usage`` object; ``details`` adds the token detail objects the API sends today."""
    body: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if details:
        body["prompt_tokens_details"] = {"cached_tokens": cached_tokens, "audio_tokens": 0}
        body["completion_tokens_details"] = {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    return body


_default_usage = usage  # the parameters named ``usage`` below shadow the function


def error_body(message: str, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """``{"error":{"message","type","param","code"}}``, the shape of every OpenAI error."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def chunks(
    pieces: Sequence[str] = (),
    *,
    tool_calls: Sequence[ToolCall] = (),
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    include_usage: bool = True,
    error: Mapping[str, Any] | None = None,
    id: str = CHUNK_ID,
    model: str = MODEL,
    created: int = CREATED,
    system_fingerprint: str | None = FINGERPRINT,
) -> list[dict[str, Any]]:
    """The JSON objects of a stream, in order (without ``[DONE]``).

    ``finish_reason`` defaults to ``"tool_calls"`` with tool calls, else ``"stop"``. ``usage``
    defaults to :func:`usage`. With ``error`` (an :func:`error_body`) the stream breaks off after
    the deltas: no finish chunk, no usage chunk, the error object last.
    """

    def chunk(choices: list[dict[str, Any]], usage_value: Any = None) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": system_fingerprint,
            "choices": choices,
        }
        if include_usage:
            obj["usage"] = usage_value
        return obj

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    def header(index: int, call: ToolCall) -> dict[str, Any]:
        return {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }

    out: list[dict[str, Any]] = []
    if pieces or not tool_calls:
        out.append(chunk(choice({"role": "assistant", "content": "", "refusal": None})))
        out += [chunk(choice({"content": piece})) for piece in pieces]
    for index, call in enumerate(tool_calls):
        if not out:
            first = {
                "role": "assistant",
                "content": None,
                "tool_calls": [header(index, call)],
                "refusal": None,
            }
            out.append(chunk(choice(first)))
        else:
            out.append(chunk(choice({"tool_calls": [header(index, call)]})))
        out += [
            chunk(choice({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
            for part in call.arguments
        ]
    if error is not None:
        return [*out, dict(error)]
    out.append(chunk(choice({}, finish_reason or ("tool_calls" if tool_calls else "stop"))))
    if include_usage:
        out.append(chunk([], dict(usage) if usage is not None else _default_usage()))
    return out


def stream(
    pieces: Sequence[str] = (),
    *,
    tool_calls: Sequence[ToolCall] = (),
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    include_usage: bool = True,
    error: Mapping[str, Any] | None = None,
    done: bool = True,
    id: str = CHUNK_ID,
    model: str = MODEL,
    created: int = CREATED,
    system_fingerprint: str | None = FINGERPRINT,
) -> list[bytes]:
    """The SSE frames of a stream (see :func:`chunks`), ending in ``data: [DONE]`` unless
    ``done`` is False or an ``error`` broke the stream off."""
    objs = chunks(
        pieces,
        tool_calls=tool_calls,
        finish_reason=finish_reason,
        usage=usage,
        include_usage=include_usage,
        error=error,
        id=id,
        model=model,
        created=created,
        system_fingerprint=system_fingerprint,
    )
    frames = [frame(obj) for obj in objs]
    if done and error is None:
        frames.append(DONE)
    return frames


def stream_reply(
    pieces: Sequence[str] = (),
    *,
    gap: float = 0.0,
    first_byte_delay: float = 0.0,
    headers_delay: float = 0.0,
    end: End = "done",
    **kwargs: Any,
) -> Reply:
    """A 200 streaming :class:`Reply` with OpenAI's headers; ``kwargs`` go to :func:`stream`."""
    return Reply.sse(
        stream(pieces, **kwargs),
        headers=STREAM_HEADERS,
        gap=gap,
        first_byte_delay=first_byte_delay,
        headers_delay=headers_delay,
        end=end,
    )


def error_frame(message: str, type: str, code: str | None = None, param: str | None = None) -> bytes:
    """A mid-stream failure: ``data: {"error":{...}}``."""
    return frame(error_body(message, type, code, param))


def completion(
    content: str | None = "Hello! How can I help you today?",
    *,
    tool_calls: Sequence[ToolCall] = (),
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    id: str = CHUNK_ID,
    model: str = MODEL,
    created: int = CREATED,
    system_fingerprint: str | None = FINGERPRINT,
) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": None if tool_calls else content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.full_arguments}}
            for c in tool_calls
        ]
    message["refusal"] = None
    message["annotations"] = []
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
        "usage": dict(usage) if usage is not None else _default_usage(),
        "service_tier": "default",
        "system_fingerprint": system_fingerprint,
    }


def completion_reply(content: str | None = "Hello! How can I help you today?", **kwargs: Any) -> Reply:
    """A 200 :class:`Reply` carrying :func:`completion`, pretty-printed like the API."""
    body = json.dumps(completion(content, **kwargs), indent=2, ensure_ascii=False).encode()
    return Reply.fixed(200, body, JSON_HEADERS)


def error_reply(
    status: int,
    message: str,
    type: str,
    code: str | None = None,
    param: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> Reply:
    """A non-2xx :class:`Reply` with an OpenAI error body (4-space indent, trailing newline)."""
    body = json.dumps(error_body(message, type, code, param), indent=4, ensure_ascii=False) + "\n"
    return Reply.fixed(status, body.encode(), (*ERROR_HEADERS, *headers))


def invalid_api_key(api_key: str = "sk-test-1234") -> Reply:
    """401 ``invalid_api_key``, with the key masked the way the API masks it."""
    masked = api_key[:3] + "*" * max(0, len(api_key) - 7) + api_key[-4:] if len(api_key) > 7 else api_key
    message = (
        f"Incorrect API key provided: {masked}. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    return error_reply(401, message, "invalid_request_error", "invalid_api_key")


def model_not_found(model: str = "gpt-9") -> Reply:
    """404 ``model_not_found``."""
    message = f"The model `{model}` does not exist or you do not have access to it."
    return error_reply(404, message, "invalid_request_error", "model_not_found")


def rate_limit_exceeded(model: str = MODEL, retry_after: int | None = None) -> Reply:
    """429 ``rate_limit_exceeded`` (type ``requests``) with the ``x-ratelimit-*`` headers."""
    wait = retry_after if retry_after is not None else 20
    message = (
        f"Rate limit reached for {model} in organization org-123 on requests per min (RPM): "
        f"Limit 3, Used 3, Requested 1. Please try again in {wait}s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    headers = [
        ("x-ratelimit-limit-requests", "3"),
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", f"{wait}s"),
    ]
    if retry_after is not None:
        headers.append(("retry-after", str(retry_after)))
    return error_reply(429, message, "requests", "rate_limit_exceeded", headers=headers)


def server_error() -> Reply:
    """500 ``server_error`` (``code`` null)."""
    message = "The server had an error while processing your request. Sorry about that!"
    return error_reply(500, message, "server_error")
