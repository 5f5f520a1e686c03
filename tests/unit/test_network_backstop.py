"""The suite's network backstop itself (tests.support.network_guard): it refuses, before any
packet leaves, every connect outside 127.0.0.0/8 and every lookup of a non-local name, on the
paths the service's clients take, and records each so the test fails even if the code under
test swallowed the error."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import aiohttp
import httpx
import pytest

from tests.support.network_guard import ForbiddenNetworkError, NetworkGuard


def test_a_plain_socket_connect_outside_loopback_is_refused(network_backstop: NetworkGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(ForbiddenNetworkError):
        sock.connect(("192.0.2.1", 9))
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(ForbiddenNetworkError):
        sock.connect_ex(("2001:db8::1", 9, 0, 0))
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(ForbiddenNetworkError):
        sock.connect(("::ffff:10.0.0.1", 9, 0, 0))
    assert network_backstop.take() == [
        "test network backstop: connect to [192.0.2.1] (tests must stay inside 127.0.0.0/8)",
        "test network backstop: connect to [2001:db8::1] (tests must stay inside 127.0.0.0/8)",
        "test network backstop: connect to [::ffff:10.0.0.1] (tests must stay inside 127.0.0.0/8)",
    ]


def test_lookups_of_non_local_names_are_refused(network_backstop: NetworkGuard) -> None:
    for name in ["example.com", "metadata.test", "api.openai.com."]:
        with pytest.raises(ForbiddenNetworkError):
            socket.getaddrinfo(name, 443)
    assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    assert socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
    assert len(network_backstop.take()) == 3


def test_asyncio_and_the_http_clients_are_covered(network_backstop: NetworkGuard) -> None:
    async def attempts() -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        with sock, pytest.raises(ForbiddenNetworkError):
            await loop.sock_connect(sock, ("198.51.100.7", 80))
        with pytest.raises(ForbiddenNetworkError):
            await loop.getaddrinfo("example.org", 80)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.get("http://203.0.113.9:81/")

    asyncio.run(attempts())
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://198.51.100.8:82/", timeout=1)
    taken = network_backstop.take()
    assert [v.split(" (")[0] for v in taken] == [
        "test network backstop: connect to [198.51.100.7]",
        "test network backstop: lookup of the name [example.org]",
        "test network backstop: connect to [203.0.113.9]",
        "test network backstop: connect to [198.51.100.8]",
    ]


def test_loopback_connects_pass(network_backstop: NetworkGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    assert network_backstop.take() == []


def test_child_processes_are_covered(network_backstop: NetworkGuard) -> None:
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        "try:\n    s.connect(('192.0.2.5', 9))\nexcept OSError as e:\n    print(type(e).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "ForbiddenNetworkError", result.stderr
    assert network_backstop.take() == [
        "in a child process: test network backstop: connect to [192.0.2.5] "
        "(tests must stay inside 127.0.0.0/8)"
    ]
