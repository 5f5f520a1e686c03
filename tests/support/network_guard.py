"""The test suite's backstop: no test may send traffic outside 127.0.0.0/8, nor look up a public name.

Installed once per session (``tests/conftest.py``), it wraps ``socket.socket.connect`` and
``connect_ex`` (asyncio's ``sock_connect``, aiohttp, httpx, urllib3 and asyncpg all end there
on the standard event loop) and ``socket.getaddrinfo`` (asyncio's ``loop.getaddrinfo`` and
aiohttp's threaded resolver call it). A connect to an address outside 127.0.0.0/8 and ::1, or
a lookup of a name other than ``localhost`` and ``*.localhost`` (even a reserved ``.test`` name
would be sent to the system's name servers: tests map those with tests.support.resolver),
raises :class:`ForbiddenNetworkError` (an ``OSError``, so the code under test takes its
ordinary error path) *and* is recorded, so the test fails at teardown even when that error
path swallowed it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

_LOCAL_NAMES = ("localhost",)
_LOCAL_SUFFIXES = (".localhost",)


class ForbiddenNetworkError(OSError):
    """A test tried to reach (or resolve) something outside the loopback network."""


class NetworkGuard:
    """Records forbidden attempts; :meth:`install` patches ``socket``, :meth:`uninstall` undoes it."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._saved: dict[str, Any] = {}

    def take(self) -> list[str]:
        """The violations recorded since the last call (and forget them)."""
        with self._lock:
            taken, self.violations = self.violations, []
        return taken

    def _refuse(self, what: str) -> ForbiddenNetworkError:
        message = f"test network backstop: {what} (tests must stay inside 127.0.0.0/8)"
        with self._lock:
            self.violations.append(message)
        return ForbiddenNetworkError(message)

    def check_address(self, family: int, address: Any) -> None:
        if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return
        host = str(address[0])
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            self.check_name(host)  # connect((name, port)) resolves the name itself
            return
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_loopback:
            raise self._refuse(f"connect to [{host}]")

    def check_name(self, host: Any) -> None:
        if host is None or host == "":
            return
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.split("%", 1)[0])
            return  # a literal: the connect check judges it
        except ValueError:
            pass
        bare = name.lower().rstrip(".")
        if bare in _LOCAL_NAMES or bare.endswith(_LOCAL_SUFFIXES):
            return
        raise self._refuse(f"lookup of the name [{name}]")

    def install(self) -> None:
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex
        original_getaddrinfo = socket.getaddrinfo
        self._saved = {
            "connect": original_connect,
            "connect_ex": original_connect_ex,
            "getaddrinfo": original_getaddrinfo,
        }
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            guard.check_address(sock.family, address)
            original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard.check_address(sock.family, address)
            return original_connect_ex(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check_name(host)
            return original_getaddrinfo(host, *args, **kwargs)

        _patch(socket.socket, "connect", connect)
        _patch(socket.socket, "connect_ex", connect_ex)
        socket.getaddrinfo = getaddrinfo

    def uninstall(self) -> None:
        if not self._saved:
            return
        _patch(socket.socket, "connect", self._saved["connect"])
        _patch(socket.socket, "connect_ex", self._saved["connect_ex"])
        socket.getaddrinfo = self._saved["getaddrinfo"]
        self._saved = {}


def _patch(cls: type, name: str, value: Callable[..., Any]) -> None:
    setattr(cls, name, value)
