"""A scripted fake provider: a real HTTP/1.1 server on 127.0.0.1 written on raw asyncio streams.

Tests decide every byte the client receives and when. The design, in short:

- :class:`FakeProvider` runs an asyncio server in its own thread with its own event loop; use it
  as a context manager (``with FakeProvider() as fake: ... fake.url``). It binds 127.0.0.1 on an
  ephemeral port and supports persistent connections (keep-alive), ``Content-Length`` and
  ``Transfer-Encoding: chunked`` request bodies.
- Each request takes the next :class:`Reply` from a FIFO queue (:meth:`FakeProvider.enqueue`), or
  the default reply when the queue is empty. A reply is either a fixed body (sent with
  ``content-length``) or a stream of events (each event written as one HTTP chunk, so a test can
  also split one SSE frame over several chunks). Timing is scripted with ``headers_delay``,
  ``first_byte_delay`` and ``gap``; how the reply ends with ``end``:

  ``"done"``   the body is complete (final ``0`` chunk); the connection stays open for reuse.
  ``"eof"``    the server closes the connection (FIN) without completing the body.
  ``"reset"``  the server aborts the connection with an RST (``SO_LINGER`` 0).
  ``"hang"``   nothing more is sent; the server waits until the client goes away.

  ``end`` only describes the transport: whether a stream carries ``data: [DONE]`` is up to its
  events. A malformed frame is just another event.
- Every request is recorded as a :class:`RecordedRequest` (method, target, lower-cased headers,
  raw body, parsed JSON, when it arrived). The server watches each connection while it waits
  and streams, so the moment the client closes the connection is recorded too (``closed_at``,
  ``closed_by``, ``aborted``); :meth:`FakeProvider.wait_for_disconnect` waits for that.

All delays are interruptible: a client that goes away ends the wait at once. ``math.inf`` means
"until the client goes away". Times are :func:`time.monotonic` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http
import json
import math
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

__all__ = ["End", "FakeProvider", "FakeProviderError", "RecordedRequest", "Reply"]

End = Literal["done", "eof", "reset", "hang"]
Headers = tuple[tuple[str, str], ...]
Closer = Literal["client", "server"]

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
_MAX_HEAD = 64 * 1024
_REASONS = {529: "Site is overloaded"}


def _headers(items: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Headers:
    if items is None:
        return ()
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple((str(k), str(v)) for k, v in pairs)


@dataclass(frozen=True)
class Reply:
    """What the fake sends for one request. Build one with the class methods.

    ``body`` set: a fixed body with ``content-length``. ``body`` None: a chunked stream of
    ``events``, one HTTP chunk each. ``respond`` False: no status line at all, go straight to
    ``end``. ``content-length`` / ``transfer-encoding`` are added unless ``headers`` has them.
    """

    status: int = 200
    headers: Headers = ()
    body: bytes | None = None
    events: tuple[bytes, ...] = ()
    respond: bool = True
    headers_delay: float = 0.0
    first_byte_delay: float = 0.0
    gap: float = 0.0
    end: End = "done"

    @classmethod
    def sse(
        cls,
        events: Iterable[bytes | str],
        *,
        status: int = 200,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        headers_delay: float = 0.0,
        first_byte_delay: float = 0.0,
        gap: float = 0.0,
        end: End = "done",
    ) -> Reply:
        """A streamed body. Default headers: ``content-type: text/event-stream; charset=utf-8``."""
        return cls(
            status=status,
            headers=_headers(headers) if headers is not None else (("content-type", SSE_CONTENT_TYPE),),
            events=tuple(e.encode() if isinstance(e, str) else bytes(e) for e in events),
            headers_delay=headers_delay,
            first_byte_delay=first_byte_delay,
            gap=gap,
            end=end,
        )

    @classmethod
    def json(
        cls,
        status: int,
        body: Any,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        headers_delay: float = 0.0,
    ) -> Reply:
        """A fixed JSON body: ``bytes``/``str`` are sent verbatim, anything else as compact JSON.

        Default headers: ``content-type: application/json``.
        """
        if isinstance(body, bytes | bytearray):
            raw = bytes(body)
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return cls.fixed(
            status,
            raw,
            headers if headers is not None else (("content-type", JSON_CONTENT_TYPE),),
            headers_delay=headers_delay,
        )

    @classmethod
    def fixed(
        cls,
        status: int,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        headers_delay: float = 0.0,
        end: End = "done",
    ) -> Reply:
        """A fixed body with exactly ``headers`` (plus ``content-length``)."""
        return cls(status=status, headers=_headers(headers), body=body, headers_delay=headers_delay, end=end)

    @classmethod
    def hang(cls) -> Reply:
        """Never answer: read the request, then wait until the client goes away."""
        return cls(respond=False, end="hang")

    @classmethod
    def drop(cls, how: Literal["reset", "eof"] = "reset") -> Reply:
        """Close the connection right after the request, without any response."""
        return cls(respond=False, end=how)

    def replace(self, **changes: Any) -> Reply:
        """A copy with some fields changed, e.g. ``reply.replace(gap=0.05)``."""
        return dataclasses.replace(self, **changes)


@dataclass(eq=False)
class RecordedRequest:
    """One request as the fake received it. ``closed_*`` fill in when its connection ends.

    ``headers`` has lower-cased names (repeated headers joined with ``", "``); ``header_list``
    keeps every header in order. ``json`` is the parsed body (None if empty or not JSON).
    ``received_at`` is when the whole request had been read; ``connection`` numbers the TCP
    connection (1, 2, ...), so equal numbers mean keep-alive reuse. ``reply`` is what it got.
    ``closed_at`` is set on the latest request of a connection only: when the connection ended
    (``closed_by`` says who ended it). ``aborted`` is True when the client went away before the
    reply was complete (while the fake delayed, streamed or hung).
    """

    method: str
    target: str
    headers: dict[str, str]
    header_list: tuple[tuple[str, str], ...]
    body: bytes
    json: Any
    received_at: float
    connection: int
    reply: Reply
    closed_at: float | None = None
    closed_by: Closer | None = None
    aborted: bool = False

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def client_closed_at(self) -> float | None:
        return self.closed_at if self.closed_by == "client" else None


class FakeProviderError(AssertionError):
    """The fake itself failed (bad request bytes, a bug); raised when the fake stops."""


@dataclass(eq=False)
class _Conn:
    """One TCP connection: a pump task reads everything into ``buf`` and notices EOF at once."""

    number: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    buf: bytearray = field(default_factory=bytearray)
    data: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    last: RecordedRequest | None = None
    responding: bool = False
    server_closing: bool = False

    async def pump(self, on_close: Callable[[_Conn, Closer], None]) -> None:
        try:
            while chunk := await self.reader.read(65536):
                self.buf += chunk
                self.data.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed.set()
            self.data.set()
            on_close(self, "server" if self.server_closing else "client")

    async def read_until(self, sep: bytes) -> bytes | None:
        """Bytes up to and including ``sep``; None if the client closed first."""
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[: i + len(sep)])
                del self.buf[: i + len(sep)]
                return out
            if self.closed.is_set():
                return None
            if len(self.buf) > _MAX_HEAD:
                raise ValueError("request head too large")
            self.data.clear()
            await self.data.wait()

    async def read_exactly(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if self.closed.is_set():
                return None
            self.data.clear()
            await self.data.wait()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def closed_within(self, delay: float) -> bool:
        """Wait ``delay`` seconds (``inf``: forever) unless the client closes first (then True)."""
        if self.closed.is_set():
            return True
        if delay <= 0:
            return False
        if math.isinf(delay):
            await self.closed.wait()
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed.wait(), delay)
        return self.closed.is_set()


class FakeProvider:
    """A scripted HTTP/1.1 server on 127.0.0.1, run in a thread. See the module docstring.

    ``default`` answers requests when the queue is empty (a 500 naming the request if None).
    Every public method is thread-safe.
    """

    def __init__(self, *replies: Reply, default: Reply | None = None) -> None:
        self.default = default
        self._lock = threading.Condition()
        self._queue: deque[Reply] = deque(replies)
        self._responder: Callable[[Any], Reply] | None = None
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._errors: list[BaseException] = []
        self._port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeProvider:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(raise_errors=exc is None)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("FakeProvider already started")
        self._thread = threading.Thread(target=self._run, name="fake-provider", daemon=True)
        self._thread.start()
        if not self._ready.wait(5) or not self._port:
            raise FakeProviderError(f"fake provider did not start: {self._errors!r}")

    def stop(self, *, raise_errors: bool = True) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        self._thread = None
        if thread.is_alive():
            raise FakeProviderError("fake provider did not stop within 5 s")
        if raise_errors and self._errors:
            raise FakeProviderError(f"fake provider failed: {self._errors!r}") from self._errors[0]

    # -- scripting -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies; requests consume them in order, then get the default."""
        with self._lock:
            self._queue.extend(replies)

    def respond_by(self, responder: Callable[[Any], Reply] | None) -> None:
        """Answer every request from its own parsed JSON body (before the queue), or stop
        with None: for concurrent requests whose arrival order is not the test's to decide."""
        with self._lock:
            self._responder = responder

    @property
    def pending(self) -> int:
        """How many queued replies no request has consumed yet."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget queued replies and recorded requests (for a fake shared by several tests)."""
        with self._lock:
            self._queue.clear()
            self._responder = None
            self._requests.clear()

    # -- what happened ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request recorded so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the fake provider received no request")
            return self._requests[-1]

    @property
    def connections(self) -> int:
        """How many TCP connections the fake accepted (keep-alive reuse keeps this low)."""
        with self._lock:
            return self._connections

    def wait_for_requests(self, count: int = 1, timeout: float = 2.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; AssertionError on timeout."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise AssertionError(
                    f"expected {count} request(s) within {timeout} s, got {len(self._requests)}"
                )
            return list(self._requests)

    def wait_for_close(self, timeout: float = 1.0, index: int = -1) -> RecordedRequest:
        """Block until the connection of request ``index`` (default: the latest) ended, whoever
        ended it; return that request. AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        needed = index + 1 if index >= 0 else -index
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= needed, timeout):
                raise AssertionError(f"no request [{index}] within {timeout} s, got {len(self._requests)}")
            request = self._requests[index]
            remaining = max(0.0, deadline - time.monotonic())
            if not self._lock.wait_for(lambda: request.closed_at is not None, remaining):
                raise AssertionError(
                    f"the client did not close the connection of {request.method} {request.target} "
                    f"within {timeout} s"
                )
            return request

    def wait_for_disconnect(self, timeout: float = 1.0, index: int = -1) -> RecordedRequest:
        """Block until the client closed the connection of request ``index`` (default: the
        latest); return that request. AssertionError on timeout or if the fake closed it."""
        request = self.wait_for_close(timeout, index)
        if request.closed_by != "client":
            end = request.reply.end
            raise AssertionError(f"the fake closed the connection of {request.target} itself (end={end!r})")
        return request

    async def wait_for_disconnect_async(self, timeout: float = 1.0, index: int = -1) -> RecordedRequest:
        """:meth:`wait_for_disconnect` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for_disconnect, timeout, index)

    # -- the server ------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by stop()
            self._errors.append(exc)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._ready.set()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()
        conns: set[_Conn] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            with self._lock:
                self._connections += 1
                number = self._connections
            conn = _Conn(number, reader, writer)
            conns.add(conn)
            try:
                await self._serve(conn)
            finally:
                conns.discard(conn)
                tasks.discard(task)

        # a burst of concurrent requests must not overflow the accept queue (100 by default)
        server = await asyncio.start_server(on_connect, "127.0.0.1", 0, backlog=1024)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for conn in list(conns):
                conn.server_closing = True
                conn.writer.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    def _on_close(self, conn: _Conn, by: Closer) -> None:
        with self._lock:
            request = conn.last
            if request is not None and request.closed_at is None:
                request.closed_at = time.monotonic()
                request.closed_by = by
                request.aborted = by == "client" and conn.responding
            self._lock.notify_all()

    async def _serve(self, conn: _Conn) -> None:
        pump = asyncio.create_task(conn.pump(self._on_close))
        try:
            while True:
                request = await self._read_request(conn)
                if request is None:
                    return
                keep_alive = await self._respond(conn, request)
                if not keep_alive or request.headers.get("connection", "").lower() == "close":
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._errors.append(exc)
        finally:
            conn.server_closing = conn.server_closing or not conn.closed.is_set()
            if not conn.writer.transport.is_closing():
                conn.writer.close()
            with contextlib.suppress(Exception):
                await conn.writer.wait_closed()
            if not pump.done():
                pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            if not conn.closed.is_set():  # the pump was cancelled before it saw the end
                self._on_close(conn, "server")

    async def _read_request(self, conn: _Conn) -> RecordedRequest | None:
        head = await conn.read_until(b"\r\n\r\n")
        if head is None:
            return None
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        header_list = tuple(
            (name.strip().lower(), value.strip())
            for name, value in (line.split(":", 1) for line in lines[1:])
        )
        headers: dict[str, str] = {}
        for name, value in header_list:
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(conn)
        else:
            body = await conn.read_exactly(int(headers.get("content-length", "0")))
        if body is None:
            return None
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._lock:
            if self._responder is not None:
                reply = self._responder(parsed)
            elif self._queue:
                reply = self._queue.popleft()
            else:
                reply = self.default or self._unscripted(method, target)
            request = RecordedRequest(
                method=method,
                target=target,
                headers=headers,
                header_list=header_list,
                body=body,
                json=parsed,
                received_at=time.monotonic(),
                connection=conn.number,
                reply=reply,
            )
            self._requests.append(request)
            conn.last = request
            conn.responding = True
            self._lock.notify_all()
        return request

    @staticmethod
    async def _read_chunked(conn: _Conn) -> bytes | None:
        body = bytearray()
        while True:
            size_line = await conn.read_until(b"\r\n")
            if size_line is None:
                return None
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    line = await conn.read_until(b"\r\n")
                    if line is None:
                        return None
                    if line == b"\r\n":
                        return bytes(body)
            chunk = await conn.read_exactly(size + 2)
            if chunk is None:
                return None
            body += chunk[:-2]

    @staticmethod
    def _unscripted(method: str, target: str) -> Reply:
        return Reply.json(
            500, {"error": {"message": f"fake provider: no reply scripted for {method} {target}"}}
        )

    async def _respond(self, conn: _Conn, request: RecordedRequest) -> bool:
        """Send ``request.reply``; True when the connection may carry another request."""
        reply = request.reply
        writer = conn.writer
        try:
            if reply.respond:
                if await conn.closed_within(reply.headers_delay):
                    return False
                writer.write(self._head(reply))
                if reply.body is not None:
                    writer.write(reply.body)
                await writer.drain()
                for i, event in enumerate(reply.events):
                    if await conn.closed_within(reply.first_byte_delay if i == 0 else reply.gap):
                        return False
                    writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                    await writer.drain()
                if reply.body is None and reply.end == "done":
                    writer.write(b"0\r\n\r\n")
                    await writer.drain()
            if reply.end == "done":
                conn.responding = False
                return not conn.closed.is_set()
            if reply.end == "hang":
                await conn.closed.wait()
                return False
            await self._flushed(writer)
            conn.server_closing = True
            if reply.end == "reset":
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()
            return False
        except (ConnectionError, OSError):
            return False

    @staticmethod
    async def _flushed(writer: asyncio.StreamWriter, limit: float = 1.0) -> None:
        """Wait until asyncio handed every written byte to the kernel (before a reset)."""
        deadline = time.monotonic() + limit
        while writer.transport.get_write_buffer_size() and time.monotonic() < deadline:
            await asyncio.sleep(0.001)

    @staticmethod
    def _head(reply: Reply) -> bytes:
        try:
            reason = http.HTTPStatus(reply.status).phrase
        except ValueError:
            reason = _REASONS.get(reply.status, "Unknown")
        names = {name.lower() for name, _ in reply.headers}
        lines = [f"HTTP/1.1 {reply.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in reply.headers]
        if "content-length" not in names and "transfer-encoding" not in names:
            if reply.body is not None:
                lines.append(f"content-length: {len(reply.body)}")
            else:
                lines.append("transfer-encoding: chunked")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
