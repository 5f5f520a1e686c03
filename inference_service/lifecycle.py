"""One worker's lifecycle as the health endpoints and the drain see it: :class:`Lifecycle`.

Why it exists: on SIGTERM the server (:mod:`inference_service.worker`) must know which
requests are still running and be able to end the streams among them with an error frame;
``GET /_health/ready`` must know whether the worker is draining and whether its preloaded
local models are in. One object per app (``app.state.lifecycle``), shared by
:class:`DrainMiddleware` (counts every request, outermost), the streams
(:class:`~inference_service.api.streaming.EventStreamResponse` registers itself) and the
worker's shutdown trigger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LIFECYCLE = "inference_service.lifecycle"
"""Scope key: the app's :class:`Lifecycle`, for the streams."""

StopStream = Callable[[], None]
"""Ends one stream now, with the shutting-down error frame."""


class Lifecycle:
    """Draining flag, requests in flight and the streams that can be stopped."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        """``shutdown_grace``: how long requests in flight may run on after SIGTERM."""
        self.draining = False
        self.models_loaded = False
        """True once the preloaded local models are in (or when nothing is preloaded)."""
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        self._streams: set[StopStream] = set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def begin_drain(self) -> None:
        """From now on ``/_health/ready`` answers 503 and every response closes its connection."""
        self.draining = True

    def request_started(self) -> None:
        self._in_flight += 1

    def request_finished(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is in flight (True) or ``timeout`` seconds passed (False)."""
        if self._in_flight == 0:
            return True
        self._idle = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        finally:
            self._idle = None
        return True

    def add_stream(self, stop: StopStream) -> None:
        self._streams.add(stop)

    def remove_stream(self, stop: StopStream) -> None:
        self._streams.discard(stop)

    def stop_streams(self) -> int:
        """End every open stream with the shutting-down error frame; how many there were."""
        streams = list(self._streams)
        self._streams.clear()
        for stop in streams:
            stop()
        return len(streams)


class DrainMiddleware:
    """Outermost ASGI middleware: counts the HTTP requests in flight and, while the worker
    drains, adds ``connection: close`` to every HTTP/1 response, so a client on a kept-alive
    connection is answered and then reconnects to another worker or node (an HTTP/2
    connection is closed with a GOAWAY by hypercorn once the drain is over)."""

    def __init__(self, app: ASGIApp, lifecycle: Lifecycle) -> None:
        self.app = app
        self.lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lifecycle = self.lifecycle
        scope[LIFECYCLE] = lifecycle
        http1 = scope.get("http_version", "1.1").startswith("1")  # HTTP/2 has no such header

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and lifecycle.draining and http1:
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        lifecycle.request_started()
        try:
            await self.app(scope, receive, send_closing)
        finally:
            lifecycle.request_finished()
