"""Byte-exact Anthropic Messages (``POST /v1/messages``) responses.

A stream is ``event: <type>\\ndata: {json}\\n\\n`` frames in the documented order:
``message_start`` (the empty message with input usage), ``content_block_start`` for block 0, one
``ping``, the block's deltas (``text_delta``, or ``input_json_delta`` fragments for a ``tool_use``
block whose ``content_block`` carries ``input: {}``), ``content_block_stop``, further blocks,
``message_delta`` (``stop_reason``, ``stop_sequence`` and the output usage), ``message_stop``.
There is no ``[DONE]``. A mid-stream failure is ``event: error`` with
``{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`` and the stream
ends there. JSON is compact, except ``ping``, which the API sends as ``{"type": "ping"}``.

A request that forces a tool (``tool_choice: {"type": "tool", "name": …}``) is answered with no
text block: the ``tool_use`` block is block 0, its first ``input_json_delta`` carries
``partial_json: ""``, and ``stop_reason`` is ``tool_use`` (:func:`forced_tool_stream`;
``tests/fixtures/sse/anthropic_forced_tool.sse`` is such a transcript).

Non-2xx responses have a compact ``{"type":"error","error":{"type","message"}}`` body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.server import End, Reply
from tests.fakes.sse import dumps, frame

__all__ = [
    "ERROR_HEADERS",
    "JSON_HEADERS",
    "MALFORMED_FRAME",
    "MESSAGE_ID",
    "MODEL",
    "PING",
    "STREAM_HEADERS",
    "TOOL_USE_ID",
    "ToolUse",
    "api_error",
    "authentication_error",
    "content_block_start",
    "content_block_stop",
    "error_body",
    "error_event",
    "error_reply",
    "event",
    "forced_tool_stream",
    "input_json_delta",
    "message",
    "message_delta",
    "message_reply",
    "message_start",
    "message_stop",
    "not_found_error",
    "overloaded_error",
    "permission_error",
    "rate_limit_error",
    "stream",
    "stream_reply",
    "text_delta",
]

MESSAGE_ID = "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"
TOOL_USE_ID = "toolu_01Kq3bD6mTzX9yWq2vR7JcLp"
MODEL = "claude-sonnet-4-5-20250929"
PING = b'event: ping\ndata: {"type": "ping"}\n\n'
MALFORMED_FRAME = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{\n\n'

STREAM_HEADERS = (
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
    ("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
)
JSON_HEADERS = (
    ("content-type", "application/json"),
    ("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
)
ERROR_HEADERS = JSON_HEADERS


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block as the model streams it: ``partial_json`` fragments, in order."""

    id: str
    name: str
    partial_json: Sequence[str] = ()

    @property
    def input_json(self) -> str:
        return "".join(self.partial_json)


def event(kind: str, data: Mapping[str, Any]) -> bytes:
    """One frame: ``event: <kind>`` and its compact JSON ``data:`` line."""
    return frame(dict(data), event=kind)


def message_start(
    *,
    id: str = MESSAGE_ID,
    model: str = MODEL,
    input_tokens: int = 25,
    usage: Mapping[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": dict(usage) if usage is not None else {"input_tokens": input_tokens, "output_tokens": 1},
    }
    return event("message_start", {"type": "message_start", "message": body})


def content_block_start(index: int, block: Mapping[str, Any]) -> bytes:
    return event(
        "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
    )


def text_delta(index: int, text: str) -> bytes:
    delta = {"type": "text_delta", "text": text}
    return event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def input_json_delta(index: int, partial_json: str) -> bytes:
    delta = {"type": "input_json_delta", "partial_json": partial_json}
    return event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def content_block_stop(index: int) -> bytes:
    return event("content_block_stop", {"type": "content_block_stop", "index": index})


def message_delta(
    stop_reason: str = "end_turn",
    *,
    output_tokens: int = 15,
    stop_sequence: str | None = None,
    usage: Mapping[str, Any] | None = None,
) -> bytes:
    body = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
        "usage": dict(usage) if usage is not None else {"output_tokens": output_tokens},
    }
    return event("message_delta", body)


def message_stop() -> bytes:
    return event("message_stop", {"type": "message_stop"})


def error_body(type: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """``{"type":"error","error":{"type","message"}}`` (+ ``request_id`` when given)."""
    body: dict[str, Any] = {"type": "error", "error": {"type": type, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def error_event(type: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    """A mid-stream failure: ``event: error``."""
    return event("error", error_body(type, message))


def stream(
    pieces: Sequence[str] = (),
    *,
    tool_uses: Sequence[ToolUse] = (),
    stop_reason: str | None = None,
    input_tokens: int = 25,
    output_tokens: int = 15,
    ping: bool = True,
    error: tuple[str, str] | None = None,
    id: str = MESSAGE_ID,
    model: str = MODEL,
) -> list[bytes]:
    """The frames of a stream: a text block (when ``pieces``), then one block per tool use.

    ``stop_reason`` defaults to ``"tool_use"`` with tool uses, else ``"end_turn"``. With
    ``error`` (``(type, message)``) the stream breaks off after the first block's deltas.
    """
    frames = [message_start(id=id, model=model, input_tokens=input_tokens)]
    blocks: list[tuple[dict[str, Any], list[bytes]]] = []
    if pieces or not tool_uses:
        blocks.append(({"type": "text", "text": ""}, [text_delta(len(blocks), p) for p in pieces]))
    for tool in tool_uses:
        header = {"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}
        blocks.append((header, [input_json_delta(len(blocks), part) for part in tool.partial_json]))
    for index, (header, deltas) in enumerate(blocks):
        frames.append(content_block_start(index, header))
        if index == 0 and ping:
            frames.append(PING)
        frames += deltas
        if error is not None:
            return [*frames, error_event(*error)]
        frames.append(content_block_stop(index))
    frames.append(
        message_delta(stop_reason or ("tool_use" if tool_uses else "end_turn"), output_tokens=output_tokens)
    )
    frames.append(message_stop())
    return frames


def forced_tool_stream(name: str, partial_json: Sequence[str], **kwargs: Any) -> list[bytes]:
    """The frames of an answer to a forced ``tool_choice`` for tool ``name``: the ``tool_use``
    block alone, its input as ``partial_json`` fragments after the API's empty first one.
    ``kwargs`` go to :func:`stream`."""
    return stream(tool_uses=[ToolUse(TOOL_USE_ID, name, ["", *partial_json])], **kwargs)


def stream_reply(
    pieces: Sequence[str] = (),
    *,
    gap: float = 0.0,
    first_byte_delay: float = 0.0,
    headers_delay: float = 0.0,
    end: End = "done",
    **kwargs: Any,
) -> Reply:
    """A 200 streaming :class:`Reply` with Anthropic's headers; ``kwargs`` go to :func:`stream`."""
    return Reply.sse(
        stream(pieces, **kwargs),
        headers=STREAM_HEADERS,
        gap=gap,
        first_byte_delay=first_byte_delay,
        headers_delay=headers_delay,
        end=end,
    )


def message(
    text: str | None = "Hello! How can I help you today?",
    *,
    tool_uses: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
    stop_reason: str | None = None,
    input_tokens: int = 25,
    output_tokens: int = 15,
    id: str = MESSAGE_ID,
    model: str = MODEL,
) -> dict[str, Any]:
    """A non-streaming ``message`` object; ``tool_uses`` are ``(id, name, input)``."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text is not None else []
    content += [{"type": "tool_use", "id": i, "name": n, "input": dict(inp)} for i, n, inp in tool_uses]
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": model,
        "stop_reason": stop_reason or ("tool_use" if tool_uses else "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def message_reply(text: str | None = "Hello! How can I help you today?", **kwargs: Any) -> Reply:
    """A 200 :class:`Reply` carrying :func:`message` (compact JSON)."""
    return Reply.fixed(200, dumps(message(text, **kwargs)).encode(), JSON_HEADERS)


def error_reply(status: int, type: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    """A non-2xx :class:`Reply` with an Anthropic error body."""
    return Reply.fixed(status, dumps(error_body(type, message)).encode(), (*ERROR_HEADERS, *headers))


def authentication_error(message: str = "invalid x-api-key") -> Reply:
    """401."""
    return error_reply(401, "authentication_error", message)


def permission_error(
    message: str = "Your API key does not have permission to use the specified resource.",
) -> Reply:
    """403."""
    return error_reply(403, "permission_error", message)


def not_found_error(model: str = "claude-9") -> Reply:
    """404 for an unknown model."""
    return error_reply(404, "not_found_error", f"model: {model}")


def rate_limit_error(retry_after: int = 20) -> Reply:
    """429 with ``retry-after``."""
    message = (
        "This request would exceed the rate limit for your organization of 50 requests per minute. "
        "For details, refer to: https://docs.claude.com/en/api/rate-limits."
    )
    return error_reply(429, "rate_limit_error", message, headers=[("retry-after", str(retry_after))])


def api_error(message: str = "Internal server error") -> Reply:
    """500."""
    return error_reply(500, "api_error", message)


def overloaded_error(message: str = "Overloaded") -> Reply:
    """529."""
    return error_reply(529, "overloaded_error", message)
