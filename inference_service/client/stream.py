"""Streamed answers: the service's event stream in, :class:`StreamChunk` objects out.

The frames are Elasticsearch's: ``event: message`` with one JSON chunk (a chat
``chat.completion.chunk``, or ``{"completion":[{"delta":...}]}``), ``data: [DONE]`` at the end,
and ``event: error`` with an error body when the answer failed after it started. Rules:

- an error frame raises its error (:func:`~inference_service.client.errors.frame_error`) from
  the iterator; so does a frame whose JSON is an ``{"error": ...}`` object whatever its event
  type (Elasticsearch writes a BOM before every frame, and a standard decoder then loses the
  ``event:`` line of every frame but the first);
- a stream that ends without ``[DONE]`` raises :class:`APIConnectionError`: never a silent end;
- a chat chunk becomes one :class:`StreamChunk` per choice; the usage chunk (no choices) one
  with ``content == ""`` and ``usage`` set;
- after ``[DONE]`` the rest of the body (the end of the chunked encoding) is read, so the
  connection can serve the next call; leaving early (``break`` inside ``with``,
  :meth:`Stream.close`) closes the connection instead, and the service then stops its provider.

:class:`Stream` and :class:`AsyncStream` only move bytes; :class:`ChunkDecoder` does the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any

import httpx
import msgspec

from inference_service.client.calls import StreamKind
from inference_service.client.errors import (
    APIConnectionError,
    APITimeoutError,
    InferenceServiceError,
    frame_error,
)
from inference_service.client.types import StreamChunk, ToolCallDelta, Usage
from inference_service.sse_decoder import ServerSentEvent, SSEDecoder, TruncatedStreamError

__all__ = ["AsyncStream", "ChunkDecoder", "Stream"]

DONE = "[DONE]"


class _Delta(msgspec.Struct):
    content: str | None = None
    role: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class _Choice(msgspec.Struct):
    delta: _Delta
    index: int = 0
    finish_reason: str | None = None


class _ChatFrame(msgspec.Struct):
    """A chat chunk, or an error body (``error`` set) arriving without its ``event: error``."""

    id: str | None = None
    model: str | None = None
    choices: list[_Choice] = msgspec.field(default_factory=list)
    usage: Usage | None = None
    error: Any = None


class _Text(msgspec.Struct):
    delta: str


class _CompletionFrame(msgspec.Struct):
    completion: list[_Text] = msgspec.field(default_factory=list)
    error: Any = None


_CHAT = msgspec.json.Decoder(_ChatFrame)
_COMPLETION = msgspec.json.Decoder(_CompletionFrame)


class ChunkDecoder:
    """Bytes of one stream in, chunks out; raises the stream's error or its truncation."""

    def __init__(self, kind: StreamKind) -> None:
        self._kind = kind
        self._sse = SSEDecoder()
        self.done = False

    def feed(self, data: bytes) -> list[StreamChunk]:
        out: list[StreamChunk] = []
        for event in self._sse.feed(data):
            if self.done:
                continue  # nothing follows [DONE]; a server that sends more is ignored
            if event.data == DONE:
                self.done = True
            elif self._kind == "chat":
                out += self._chat(event)
            else:
                out += self._completion(event)
        return out

    def finish(self) -> None:
        """The bytes ended: fine after ``[DONE]``, an :class:`APIConnectionError` otherwise."""
        if self.done:
            return
        try:
            self._sse.close()
        except TruncatedStreamError:
            raise APIConnectionError("the stream was cut off in the middle of an event") from None
        raise APIConnectionError("the stream ended without [DONE]: the answer is incomplete")

    def _chat(self, event: ServerSentEvent) -> list[StreamChunk]:
        if event.event == "error":
            raise frame_error(_json(event.data))
        try:
            frame = _CHAT.decode(event.data)
        except msgspec.DecodeError as exc:
            raise InferenceServiceError(f"unreadable stream chunk: {exc}") from None
        if frame.error is not None:
            raise frame_error(_json(event.data))
        if not frame.choices:
            return [StreamChunk(id=frame.id, model=frame.model, usage=frame.usage)]
        last = len(frame.choices) - 1
        return [
            StreamChunk(
                content=choice.delta.content or "",
                id=frame.id,
                model=frame.model,
                role=choice.delta.role,
                finish_reason=choice.finish_reason,
                index=choice.index,
                tool_calls=choice.delta.tool_calls or [],
                usage=frame.usage if i == last else None,
            )
            for i, choice in enumerate(frame.choices)
        ]

    def _completion(self, event: ServerSentEvent) -> list[StreamChunk]:
        if event.event == "error":
            raise frame_error(_json(event.data))
        try:
            frame = _COMPLETION.decode(event.data)
        except msgspec.DecodeError as exc:
            raise InferenceServiceError(f"unreadable stream chunk: {exc}") from None
        if frame.error is not None:
            raise frame_error(_json(event.data))
        return [StreamChunk(content=text.delta) for text in frame.completion]


def _json(data: str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return data


def _transport_error(exc: httpx.HTTPError) -> InferenceServiceError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError("the service sent nothing within the call's timeout")
    return APIConnectionError(f"the connection broke during the stream: {exc}")


class Stream:
    """A streamed answer: iterate it for :class:`StreamChunk` objects. Use it in ``with``
    (or call :meth:`close`) to stop early; the connection is closed at the end either way."""

    def __init__(self, response: httpx.Response, kind: StreamKind) -> None:
        self._response = response
        self._bytes = response.iter_bytes()
        self._decoder = ChunkDecoder(kind)
        self._pending: deque[StreamChunk] = deque()
        self._closed = False

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        while not self._pending:
            if self._closed:
                raise StopIteration
            try:
                data = next(self._bytes, None)
                if data is None:
                    self.close()
                    self._decoder.finish()
                    raise StopIteration
                self._pending.extend(self._decoder.feed(data))
            except httpx.HTTPError as exc:
                self.close()
                if self._decoder.done:  # the answer was whole; only its last bytes were lost
                    raise StopIteration from None
                raise _transport_error(exc) from exc
            except InferenceServiceError:
                self.close()
                raise
        return self._pending.popleft()

    def close(self) -> None:
        """Stop reading; an unfinished answer's connection is closed (the service sees it)."""
        if not self._closed:
            self._closed = True
            self._response.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncStream:
    """:class:`Stream` for ``async for`` / ``async with`` (``aclose()`` to stop early)."""

    def __init__(self, response: httpx.Response, kind: StreamKind) -> None:
        self._response = response
        self._bytes = response.aiter_bytes()
        self._decoder = ChunkDecoder(kind)
        self._pending: deque[StreamChunk] = deque()
        self._closed = False

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        return self

    async def __anext__(self) -> StreamChunk:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            try:
                data = await anext(self._bytes, None)
                if data is None:
                    await self.aclose()
                    self._decoder.finish()
                    raise StopAsyncIteration
                self._pending.extend(self._decoder.feed(data))
            except httpx.HTTPError as exc:
                await self.aclose()
                if self._decoder.done:
                    raise StopAsyncIteration from None
                raise _transport_error(exc) from exc
            except InferenceServiceError:
                await self.aclose()
                raise
        return self._pending.popleft()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._response.aclose()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
