"""The ASGI middleware that begins each request's record and reports it once it is over.

Outermost of the app's own layers (inside Starlette's last-resort error handler, whose 500 it
still sees as an exception), so every request is seen exactly once whatever answers it: a
handler, a routing 404, an authentication refusal. It reads the three request headers it
needs from the raw ASGI list (no ``Headers`` object per request), adds ``X-Request-Id`` (the
client's, when it sent a usable one, else a new one) and echoes ``X-Opaque-Id`` (what
Elasticsearch clients send) on the response, and notes the status and the time the first body
byte of a stream went out. Its cost per chunk is one function call and one comparison.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference_service.inference.record import RequestRecord, begin_request
from inference_service.redaction import redact

if TYPE_CHECKING:
    from inference_service.observe.tracing import Tracing


class Observer(Protocol):
    def started(self, record: RequestRecord) -> None: ...

    def finished(self, record: RequestRecord) -> None: ...


_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """32 hex characters: a random prefix per process and a counter, unique across workers and
    restarts without a call into the OS random source per request."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


MAX_ID_LENGTH = 200
"""Longer ``X-Request-Id`` / ``X-Opaque-Id`` values are not echoed or logged (a new request id
replaces the first; the second is dropped): a header is no place for a payload."""


def _usable(value: bytes | None) -> str | None:
    """A client's id as it may be echoed and logged: printable ASCII, bounded, and nothing
    credential-shaped (the request log line is not redacted again)."""
    if value is None or not 0 < len(value) <= MAX_ID_LENGTH:
        return None
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() and redact(text) == text else None


class ObserveMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        observer: Observer,
        face_of: Callable[[str], str],
        tracing: Tracing | None = None,
    ) -> None:
        self.app = app
        self._observer = observer
        self._face_of = face_of
        self._tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache_control = request_id = opaque_id = None
        for name, value in scope["headers"]:
            if name == b"cache-control":
                cache_control = value.decode("latin-1")
            elif name == b"x-request-id":
                request_id = value
            elif name == b"x-opaque-id":
                opaque_id = value
        record = begin_request(cache_control)
        record.started = time.perf_counter()
        record.face = self._face_of(scope["path"])
        record.request_id = _usable(request_id) or new_request_id()
        record.opaque_id = _usable(opaque_id)
        extra = [(b"x-request-id", record.request_id.encode("ascii"))]
        if record.opaque_id is not None:
            extra.append((b"x-opaque-id", record.opaque_id.encode("ascii")))

        self._observer.started(record)
        tracing = self._tracing
        if tracing is not None:
            span, token = tracing.start_server(scope)

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.body":
                if record.first_byte_at is None and message.get("body"):
                    record.first_byte_at = time.perf_counter()
            elif message["type"] == "http.response.start":
                record.status = message["status"]
                # a new message: an inner layer may keep the one it sent (idempotency stores it)
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except BaseException:
            if record.status == 0:
                record.status = 500
                record.failed("InternalError")
            raise
        finally:
            record.finished_at = time.perf_counter()
            self._observer.finished(record)
            if tracing is not None:
                tracing.finish_server(span, token, record)
