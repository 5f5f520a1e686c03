"""Anthropic Messages stream events and error bodies -> unified chunks and upstream errors.

The translation is stateful (one :class:`AnthropicStreamTranslator` per stream):

- ``message_start`` -> a first chunk with ``delta.role = "assistant"``; remembers id, model and
  input tokens.
- ``content_block_start`` of a ``tool_use`` block -> a tool-call delta with its id and name
  (tool calls are numbered 0, 1, … in the order their blocks start, as OpenAI numbers them).
- ``content_block_delta``: ``text_delta`` -> a content delta; ``input_json_delta`` -> a
  tool-call arguments delta. Thinking/signature deltas are not part of the unified format
  and are skipped.
- ``message_delta`` -> a chunk with the mapped ``finish_reason`` (``end_turn``/``stop_sequence``
  -> ``stop``, ``max_tokens`` -> ``length``, ``tool_use`` -> ``tool_calls``) and the output tokens.
- ``message_stop`` -> the usage chunk (``choices: []``) and the end of the stream.
- ``ping`` and unknown event types are ignored (Anthropic may add event types); ``error`` ends
  the stream with the provider's error type.

With ``json_tool`` (a JSON ``response_format``, sent as that forced tool by
:mod:`.request`), the tool is an implementation detail the client never sees: its
``input_json_delta`` fragments become *content* deltas (the JSON text of the answer), its block
start emits nothing, and its ``tool_use`` stop reason is ``stop``. An input that streamed no
fragment at all is the empty object, sent as ``{}`` with the finish. Only these branches look at
``json_tool``: text deltas cost the same as without it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import MalformedUpstreamError, UpstreamError
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionDelta,
    ToolCallDelta,
    Usage,
)
from inference_service.providers.http import Terminator, upstream_reason, upstream_status
from inference_service.sse_decoder import ServerSentEvent

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
}


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None


class _Message(msgspec.Struct):
    id: str = ""
    model: str = ""
    usage: _Usage = msgspec.field(default_factory=_Usage)


class _MessageStart(msgspec.Struct):
    message: _Message


class _Block(msgspec.Struct):
    type: str
    id: str | None = None
    name: str | None = None


class _BlockStart(msgspec.Struct):
    index: int
    content_block: _Block


class _BlockDelta(msgspec.Struct):
    type: str
    text: str | None = None
    partial_json: str | None = None


class _BlockDeltaEvent(msgspec.Struct):
    index: int
    delta: _BlockDelta


class _MessageDeltaBody(msgspec.Struct):
    stop_reason: str | None = None


class _MessageDelta(msgspec.Struct):
    delta: _MessageDeltaBody
    usage: _Usage = msgspec.field(default_factory=_Usage)


class AnthropicError(msgspec.Struct):
    type: str = "api_error"
    message: str = ""


class AnthropicErrorBody(msgspec.Struct):
    error: AnthropicError


_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "message_start": msgspec.json.Decoder(_MessageStart),
    "content_block_start": msgspec.json.Decoder(_BlockStart),
    "content_block_delta": msgspec.json.Decoder(_BlockDeltaEvent),
    "message_delta": msgspec.json.Decoder(_MessageDelta),
}
_ERROR = msgspec.json.Decoder(AnthropicErrorBody)
_IGNORED = frozenset({"ping", "content_block_stop"})
OBJECT = "chat.completion.chunk"
TERMINATOR = Terminator("message_stop", lambda event: event.event == "message_stop")


class AnthropicStreamTranslator:
    def __init__(self, inference_id: str, json_tool: str | None = None) -> None:
        self._inference_id = inference_id
        self._json_tool = json_tool
        self._json_blocks: set[int] = set()
        self._json_sent = False
        self._id = ""
        self._model = ""
        self._input_tokens = 0
        self._output_tokens = 0
        self._tools: dict[int, int] = {}

    def _chunk(self, delta: Delta, finish_reason: str | None = None) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta, finish_reason=finish_reason, index=0)
        return ChatCompletionChunk(id=self._id, choices=[choice], model=self._model, object=OBJECT)

    def feed(self, event: ServerSentEvent) -> ChatCompletionChunk | None:
        """One upstream event -> a unified chunk or None (``message_stop`` -> the usage chunk)."""
        kind = event.event
        if kind in _IGNORED:
            return None
        if kind == "error":
            raise self._stream_error(event.data)
        if kind == "message_stop":
            usage = Usage(
                completion_tokens=self._output_tokens,
                prompt_tokens=self._input_tokens,
                total_tokens=self._input_tokens + self._output_tokens,
            )
            return ChatCompletionChunk(id=self._id, choices=[], model=self._model, object=OBJECT, usage=usage)
        decoder = _DECODERS.get(kind)
        if decoder is None:
            return None
        try:
            parsed = decoder.decode(event.data)
        except msgspec.DecodeError as exc:
            raise MalformedUpstreamError(
                f"The provider sent a malformed [{kind}] event for inference entity id "
                f"[{self._inference_id}]: {exc}"
            ) from None
        return self._translate(parsed)

    def _translate(self, parsed: Any) -> ChatCompletionChunk | None:
        if isinstance(parsed, _MessageStart):
            self._id, self._model = parsed.message.id, parsed.message.model
            self._input_tokens = parsed.message.usage.input_tokens or 0
            self._output_tokens = parsed.message.usage.output_tokens or 0
            return self._chunk(Delta(role="assistant"))
        if isinstance(parsed, _BlockStart):
            block = parsed.content_block
            if block.type != "tool_use":
                return None
            if self._json_tool is not None and block.name == self._json_tool:
                self._json_blocks.add(parsed.index)
                return None
            position = self._tools[parsed.index] = len(self._tools)
            call = ToolCallDelta(
                index=position,
                id=block.id,
                function=FunctionDelta(arguments="", name=block.name),
                type="function",
            )
            return self._chunk(Delta(tool_calls=[call]))
        if isinstance(parsed, _BlockDeltaEvent):
            delta = parsed.delta
            if delta.type == "text_delta" and delta.text:
                return self._chunk(Delta(content=delta.text))
            if delta.type != "input_json_delta" or not delta.partial_json:
                return None
            if parsed.index in self._json_blocks:
                self._json_sent = True
                return self._chunk(Delta(content=delta.partial_json))
            if parsed.index in self._tools:
                call = ToolCallDelta(
                    index=self._tools[parsed.index], function=FunctionDelta(arguments=delta.partial_json)
                )
                return self._chunk(Delta(tool_calls=[call]))
            return None
        if isinstance(parsed, _MessageDelta):
            if parsed.usage.output_tokens is not None:
                self._output_tokens = parsed.usage.output_tokens
            if parsed.usage.input_tokens is not None:
                self._input_tokens = parsed.usage.input_tokens
            reason = parsed.delta.stop_reason
            finish = FINISH_REASONS.get(reason or "", reason or "stop")
            if self._json_blocks:
                if finish == "tool_calls" and not self._tools:
                    finish = "stop"
                if not self._json_sent:
                    self._json_sent = True
                    return self._chunk(Delta(content="{}"), finish)
            return self._chunk(Delta(), finish)
        return None

    def _stream_error(self, data: str) -> UpstreamError:
        try:
            failure = _ERROR.decode(data).error
        except msgspec.DecodeError:
            failure = AnthropicError(message=data)
        return UpstreamError(
            f"Received an error response for request from inference entity id [{self._inference_id}]. "
            f"Error message: [{failure.message}]",
            error_type=failure.type,
        )


def parse_anthropic_error(status: int, body: bytes, inference_id: str, url: str) -> UpstreamError:
    """A non-2xx answer -> an error keeping the provider's status, message and type."""
    try:
        failure = _ERROR.decode(body).error
    except msgspec.DecodeError:
        failure = AnthropicError(message=body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}")
    return UpstreamError(
        upstream_reason(status, inference_id, url, failure.message),
        status=upstream_status(status),
        error_type=failure.type,
    )
