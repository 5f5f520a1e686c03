"""A request refused before its body was read leaves the connection usable (socket level)."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.service import RunningService

BODY = b'{"service": "openai", "service_settings": {"api_key": "k", "model_id": "m"}}'


def exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request and read one whole response (``content-length`` framed)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return head.split(b"\r\n")[0]


@pytest.mark.parametrize(
    "first",
    [
        b"PUT /_inference/x/_stream HTTP/1.1",  # 405 from the router
        b"PUT /_inference/completion/x?nope=1 HTTP/1.1",  # 400 before the handler reads the body
        b"POST /_nowhere HTTP/1.1",  # 404 -> ES "no handler found"
    ],
)
@pytest.mark.parametrize("body_late", [False, True])
def test_the_connection_serves_the_next_request_after_an_early_error(
    service: RunningService, first: bytes, body_late: bool
) -> None:
    """Also when the body arrives a moment after the head (a client that writes them
    separately): the service reads it before answering instead of answering and then having
    to close the connection under the client's next request."""
    url = urlsplit(service.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        head = b"Host: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
        if body_late:
            sock.sendall(first + b"\r\n" + head)
            time.sleep(0.1)
            status = exchange(sock, BODY)
        else:
            status = exchange(sock, first + b"\r\n" + head + BODY)
        assert status.split()[1] in (b"400", b"405")
        assert exchange(sock, b"GET / HTTP/1.1\r\nHost: test\r\n\r\n") == b"HTTP/1.1 200 "
