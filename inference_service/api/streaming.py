"""The ``_stream`` response: a raw ASGI event stream with deadlines and disconnect handling.

Flow:

1. A watcher task waits on ``receive()``; ``http.disconnect`` cancels the request task, so a
   client that goes away — even before the first token — cancels the upstream read, whose
   ``async with`` closes the provider connection.
2. The first chunk is awaited *before* the response starts, under the request deadline
   (``?timeout``: queueing, connecting, time to first token). Errors up to here get their own
   HTTP status and a single ``event: error`` frame; expiry is 408 "Request timed out after [t]".
3. Then one ``event: message`` frame per chunk, each awaited under the idle limit, and
   ``data: [DONE]``. An error after the first byte becomes one ``event: error`` frame and the
   stream ends without ``[DONE]`` — never a silent stop.

Raw ASGI rather than Starlette's ``StreamingResponse``: one task per request instead of an
anyio task group, and no per-chunk wrapper objects.

A stream that answered 200 and then ended in an error frame, or that the client left, sets
:data:`STREAM_INCOMPLETE` in the ASGI scope: its status alone would call it a success, and the
idempotency layer (:mod:`inference_service.api.idempotency`) must not store it as one.

While the worker drains (SIGTERM, :mod:`inference_service.worker`), each stream is registered
with the app's :class:`~inference_service.lifecycle.Lifecycle`: when ``shutdown_grace`` is over,
a stream still open is cancelled the way a disconnect cancels it, and ends with one
:class:`~inference_service.errors.ShuttingDownError` frame (a 503 if nothing was sent yet).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncGenerator, Callable

from starlette.types import Message, Receive, Scope, Send

from inference_service.api.sse import Framing, RawHeaders, es_framing
from inference_service.errors import (
    INTERNAL_ERROR_REASON,
    InferenceServiceError,
    ShuttingDownError,
    UpstreamTimeoutError,
)
from inference_service.inference.deadline import Deadline, expiring
from inference_service.inference.record import RequestRecord, current_record, raw_response_headers
from inference_service.lifecycle import LIFECYCLE, Lifecycle

log = logging.getLogger("inference_service.stream")

STREAM_INCOMPLETE = "inference_service.stream_incomplete"
"""Scope key, True when the stream did not end with its last frame (error frame or disconnect)."""

ErrorRenderer = Callable[[InferenceServiceError, bool], bytes]
"""Renders an error as the frame's JSON; the flag says whether the stream had started."""


def _start(status: int, headers: RawHeaders) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


class EventStreamResponse:
    """Streams ``chunks`` as Server-Sent Events: each item is a non-empty list of encoded,
    single-line JSON payloads, sent as one ``event: message`` frame each, in one write."""

    def __init__(
        self,
        chunks: AsyncGenerator[list[bytes], None],
        *,
        render_error: ErrorRenderer,
        deadline: Deadline,
        idle_s: float,
        bom: bool = False,
        framing: Framing | None = None,
    ) -> None:
        self._chunks = chunks
        self._render_error = render_error
        self._deadline = deadline
        self._idle_s = idle_s
        self._framing = framing or es_framing(bom)
        self._record: RequestRecord = current_record()
        self._started = False
        self._stopping = False

    def _stop_for_shutdown(self, task: asyncio.Task[object]) -> None:
        self._stopping = True
        task.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        disconnected = finished = False
        self._record.streaming = True

        async def watch() -> None:
            nonlocal disconnected
            while (await receive())["type"] != "http.disconnect":
                pass
            if not finished:  # a client leaving after the last byte cancels nothing
                disconnected = True
                scope[STREAM_INCOMPLETE] = True
                task.cancel()

        lifecycle: Lifecycle | None = scope.get(LIFECYCLE)
        stop = functools.partial(self._stop_for_shutdown, task)
        if lifecycle is not None:
            lifecycle.add_stream(stop)
        watcher = asyncio.create_task(watch())
        try:
            await self._stream(scope, send)
        except asyncio.CancelledError:
            if disconnected:
                task.uncancel()
                self._record.failed("ClientDisconnected")
            elif self._stopping:
                task.uncancel()
                await self._end_for_shutdown(scope, send)
            else:
                raise
        finally:
            finished = True
            if lifecycle is not None:
                lifecycle.remove_stream(stop)
            watcher.cancel()
            await self._chunks.aclose()

    async def _end_for_shutdown(self, scope: Scope, send: Send) -> None:
        """``shutdown_grace`` is over: the stream ends with the shutting-down error."""
        self._record.failed("ShuttingDown")
        scope[STREAM_INCOMPLETE] = True
        if not self._started:
            await self._fail_before_start(send, ShuttingDownError())
            return
        await send(self._body(self._error_frame(ShuttingDownError(), started=True), more=False))

    async def _stream(self, scope: Scope, send: Send) -> None:
        window = asyncio.timeout(self._deadline.seconds)
        try:
            with expiring(self._deadline.seconds):
                async with window:
                    first = await anext(self._chunks)
        except StopAsyncIteration:
            first = None
        except TimeoutError as exc:
            # only the deadline's own expiry is the client's 408; a provider's timeout is its error
            failure = self._deadline.expired() if window.expired() else _as_service_error(exc)
            await self._fail_before_start(send, failure)
            return
        except Exception as exc:
            await self._fail_before_start(send, _as_service_error(exc))
            return

        self._started = True
        await send(_start(200, raw_response_headers(self._framing.headers)))
        if first is not None:
            await send(self._body(self._frames(first)))
            if not await self._relay(scope, send):
                return
        await send(self._body(self._framing.done, more=False))

    async def _relay(self, scope: Scope, send: Send) -> bool:
        """Forward chunks until the provider is done (True) or failed (False, error sent and
        :data:`STREAM_INCOMPLETE` set before it)."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        watchdog = _IdleWatchdog(self._idle_s)
        try:
            while True:
                watchdog.waiting_since = loop.time()
                try:
                    data = await anext(self._chunks)
                except StopAsyncIteration:
                    return True
                except asyncio.CancelledError:
                    if not watchdog.fired:
                        raise
                    task.uncancel()
                    idle = UpstreamTimeoutError(
                        f"The provider sent nothing for [{self._idle_s:g}s]; the stream was ended"
                    )
                    scope[STREAM_INCOMPLETE] = True
                    await send(self._body(self._error_frame(idle, started=True), more=False))
                    return False
                except Exception as failure:
                    scope[STREAM_INCOMPLETE] = True
                    await send(self._body(self._error_frame(failure, started=True), more=False))
                    return False
                watchdog.waiting_since = None
                await send(self._body(self._frames(data)))
        finally:
            watchdog.cancel()

    def _frames(self, batch: list[bytes]) -> bytes:
        message = self._framing.message
        if len(batch) == 1:
            return message(batch[0])
        return b"".join([message(data) for data in batch])

    async def _fail_before_start(self, send: Send, exc: InferenceServiceError) -> None:
        framing = self._framing
        headers = framing.refusal_headers
        if exc.retry_after:
            headers = (*headers, (b"retry-after", exc.retry_after.encode("latin-1")))
        self._started = True
        await send(_start(exc.status, raw_response_headers(headers)))
        await send(self._body(framing.refusal(self._render_error(exc, False)), more=False))

    def _error_frame(self, exc: Exception, *, started: bool) -> bytes:
        return self._framing.error(self._render_error(_as_service_error(exc), started))

    @staticmethod
    def _body(data: bytes, *, more: bool = True) -> Message:
        return {"type": "http.response.body", "body": data, "more_body": more}


class _IdleWatchdog:
    """The idle limit between chunks, with one timer per stream instead of a timeout context
    per chunk (which costs a timer and a context switch on every token).

    The stream sets :attr:`waiting_since` while it awaits the provider (never while it writes
    to a slow client); the timer fires only when that wait has lasted the whole limit, and
    then cancels the stream's task.
    """

    def __init__(self, idle_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._idle_s = idle_s
        self.waiting_since: float | None = None
        self.fired = False
        self._handle = self._loop.call_later(idle_s, self._check)

    def _check(self) -> None:
        now = self._loop.time()
        since = self.waiting_since
        if since is not None and now - since >= self._idle_s:
            self.fired = True
            assert self._task is not None
            self._task.cancel()
            return
        self._handle = self._loop.call_at((now if since is None else since) + self._idle_s, self._check)

    def cancel(self) -> None:
        self._handle.cancel()


def _as_service_error(exc: Exception) -> InferenceServiceError:
    if isinstance(exc, InferenceServiceError):
        return exc
    log.error("unexpected error while streaming", exc_info=exc)
    return InferenceServiceError(INTERNAL_ERROR_REASON)


class EventStreamError:
    """An error before any stream exists (bad body, unknown endpoint): status + one error frame."""

    def __init__(self, exc: InferenceServiceError, render_error: ErrorRenderer, *, bom: bool = False) -> None:
        self._exc = exc
        self._framing = es_framing(bom)
        self._frame = self._framing.refusal(render_error(exc, False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(_start(self._exc.status, self._framing.refusal_headers))
        await send({"type": "http.response.body", "body": self._frame, "more_body": False})
