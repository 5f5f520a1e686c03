"""A scriptable fake provider: a real HTTP/1.1 server on 127.0.0.1 speaking raw bytes.

Each request takes the next queued :class:`Reply` (or the default). A reply can delay its
headers or first byte, pace its chunks, end cleanly, reset the connection (RST), or hang until
the client goes away. Every request is recorded with when it arrived and when the client
closed the connection, so tests can prove a disconnect or timeout cancelled the upstream.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class Reply:
    status: int = 200
    chunks: Sequence[bytes] = ()
    headers: Sequence[tuple[str, str]] = (("content-type", "text/event-stream; charset=utf-8"),)
    headers_delay: float = 0.0
    first_byte_delay: float = 0.0
    gap: float = 0.0
    end: Literal["close", "reset", "hang"] = "close"

    @classmethod
    def json(cls, status: int, body: Any) -> Reply:
        return cls(
            status=status, chunks=[json.dumps(body).encode()], headers=(("content-type", "application/json"),)
        )


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    closed_at: float | None = None
    closed: threading.Event = field(default_factory=threading.Event)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeUpstream:
    def __init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self.default = Reply(status=500, chunks=[b'{"error":{"message":"no reply scripted"}}'])
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} upstream requests, got {len(self.requests)}")
            return list(self.requests)

    def _next(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self.default

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ln)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                record = Recorded(method, path, headers, body, time.monotonic())
                with self._arrived:
                    self.requests.append(record)
                    self._arrived.notify_all()
                if not await self._reply(self._next(), reader, writer, record):
                    return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _reply(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Recorded
    ) -> bool:
        """Send ``reply``; False when the connection must not be reused."""
        closed = asyncio.ensure_future(reader.read(1))
        try:
            if reply.headers_delay and await _closed_within(closed, reply.headers_delay):
                return self._gone(record)
            head = f"HTTP/1.1 {reply.status} X\r\ntransfer-encoding: chunked\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers) + "\r\n"
            writer.write(head.encode("latin-1"))
            await writer.drain()
            for i, chunk in enumerate(reply.chunks):
                delay = reply.first_byte_delay if i == 0 else reply.gap
                if delay and await _closed_within(closed, delay):
                    return self._gone(record)
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            if reply.end == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return False
            if reply.end == "hang":
                await closed
                return self._gone(record)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            if closed.done():
                return self._gone(record)
            return True
        except ConnectionError:
            return self._gone(record)
        finally:
            closed.cancel()

    def _gone(self, record: Recorded) -> bool:
        record.closed_at = time.monotonic()
        record.closed.set()
        return False


async def _closed_within(closed: asyncio.Future[bytes], delay: float) -> bool:
    """Sleep ``delay`` unless the client closes first (then True)."""
    done, _ = await asyncio.wait({closed}, timeout=delay)
    return bool(done)


@contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        server = await asyncio.start_server(fake._handle, "127.0.0.1", 0)
        fake.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await stop.wait()
            server.close()
            for writer in list(fake._writers):
                writer.transport.abort()
            await asyncio.sleep(0)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield fake
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        loop.close()
