"""The HTTP/1.1 request reader the benchmark fakes share: keep-alive, ``content-length`` bodies.

A fake subclasses :class:`FakeHttpProtocol` and answers each complete request in
:meth:`~FakeHttpProtocol.respond` with the parsed query string and the raw body. It parses only
what a fake needs, precomputes nothing itself and is for loopback benchmarks only.
"""

from __future__ import annotations

import asyncio
from typing import cast
from urllib.parse import parse_qs, urlsplit


class FakeHttpProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.respond(parse_qs(urlsplit(head.split(b" ", 2)[1].decode()).query), body)

    def respond(self, query: dict[str, list[str]], body: bytes) -> None:
        raise NotImplementedError

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
