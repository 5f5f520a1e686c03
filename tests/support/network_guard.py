"""The test suite's backstop: no test may send traffic outside 127.0.0.0/8, nor look up a public name.

Installed once per session (``tests/conftest.py``), it wraps ``socket.socket.connect`` and
``connect_ex`` (asyncio's ``sock_connect``, aiohttp, httpx, urllib3 and asyncpg all end there
on the standard event loop) and ``socket.getaddrinfo`` (asyncio's ``loop.getaddrinfo`` and
aiohttp's threaded resolver call it). A connect to an address outside 127.0.0.0/8 and ::1, or
a lookup of a name other than ``localhost`` and ``*.localhost`` (even a reserved ``.test`` name
would be sent to the system's name servers: tests map those with tests.support.resolver),
raises :class:`ForbiddenNetworkError` (an ``OSError``, so the code under test takes its
ordinary error path) *and* is recorded, so the test fails at teardown even when that error
path swallowed it. Processes the tests start install it too (``backstop_site/sitecustomize.py``)
and record into a log file the test process reads (:meth:`NetworkGuard.take`).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SITE_DIR = Path(__file__).resolve().parent / "backstop_site"
"""On a child process's ``PYTHONPATH``: its ``sitecustomize`` installs the backstop there."""
LOG_ENV = "INFERENCE_SERVICE_TEST_NETWORK_LOG"

_LOCAL_NAMES = ("localhost",)
_LOCAL_SUFFIXES = (".localhost",)


class ForbiddenNetworkError(OSError):
    """A test tried to reach (or resolve) something outside the loopback network."""


class NetworkGuard:
    """Records forbidden attempts; :meth:`install` patches ``socket``, :meth:`uninstall` undoes it."""

    def __init__(self, log_file: str | None = None) -> None:
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._saved: dict[str, Any] = {}
        self._log_file = log_file
        """In a child process: where violations are appended for the test process to read."""
        self._log_read = 0

    def take(self) -> list[str]:
        """The violations recorded since the last call (and forget them), this process's and
        those child processes logged to :meth:`child_log`."""
        with self._lock:
            taken, self.violations = self.violations, []
        log = os.environ.get(LOG_ENV)
        if self._log_file is None and log and Path(log).exists():
            lines = Path(log).read_text("utf-8").splitlines()
            taken += [f"in a child process: {line}" for line in lines[self._log_read :]]
            self._log_read = len(lines)
        return taken

    def cover_child_processes(self, log: Path) -> None:
        """Make processes started from now on (inheriting the environment) install the backstop."""
        log.touch()
        os.environ[LOG_ENV] = str(log)
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), *([path] if path else [])])

    def _refuse(self, what: str) -> ForbiddenNetworkError:
        message = f"test network backstop: {what} (tests must stay inside 127.0.0.0/8)"
        with self._lock:
            if self._log_file is not None:
                with open(self._log_file, "a", encoding="utf-8") as out:
                    out.write(message + "\n")
            else:
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
