"""A TCP relay on 127.0.0.1 that breaks its first client connections after the request went
through, as a load balancer whose client side failed: the client sees its connection reset
before any answer, while the service, whose side stays open and is read to the end, runs the
request to completion. Later connections are relayed both ways, byte for byte."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

_HEAD_END = b"\r\n\r\n"


def _read_request(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 request with a ``Content-Length`` body (what httpx sends)."""
    data = b""
    while _HEAD_END not in data:
        more = sock.recv(65536)
        if not more:
            return data
        data += more
    head, _, body = data.partition(_HEAD_END)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return head + _HEAD_END + body


class DroppingRelay:
    """``with DroppingRelay(port, drops=1) as relay``: ``relay.url`` reaches 127.0.0.1:``port``;
    ``relay.sent[i]`` is every byte client connection ``i`` sent."""

    def __init__(self, port: int, *, drops: int = 1) -> None:
        self._port = port
        self._drops = drops
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.sent: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> DroppingRelay:
        self._start(self._accept)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._lock:
            sockets = [self._listener, *self._sockets]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            service = socket.create_connection(("127.0.0.1", self._port))
            with self._lock:
                index = len(self.sent)
                self.sent.append(b"")
                self._sockets += [client, service]
            if index < self._drops:
                self._start(self._drop, client, service, index)
            else:
                self._start(self._pump, client, service, index)
                self._start(self._pump, service, client, None)

    def _drop(self, client: socket.socket, service: socket.socket, index: int) -> None:
        with contextlib.suppress(OSError):
            request = _read_request(client)
            self._record(index, request)
            service.sendall(request)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # an RST: no answer reaches the client
            while service.recv(65536):  # the service answers into the void, to the end
                pass

    def _pump(self, source: socket.socket, sink: socket.socket, index: int | None) -> None:
        try:
            while data := source.recv(65536):
                if index is not None:
                    self._record(index, data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def _record(self, index: int, data: bytes) -> None:
        with self._lock:
            self.sent[index] += data
