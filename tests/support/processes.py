"""``inference-service serve`` as a separate process, as a node of a deployment runs it.

Settings come from a ``--config`` file only (the developer's ``INFERENCE_SERVICE_*`` variables
are dropped), so two processes on one database differ only in what their files say.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_ALLOWLIST, TEST_KEY

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def node_config(directory: Path, database_url: str, **settings: str | float | int | bool) -> Path:
    """A config file for one node: its own ``data_dir``, the shared database and secrets key
    (every node must decrypt what another stored), PUT validation off, loopback providers."""
    directory.mkdir(parents=True, exist_ok=True)
    values: dict[str, str | float | int | bool] = {
        "data_dir": str(directory),
        "database_url": database_url,
        "secrets_key": TEST_KEY,
        "validate_on_put": False,
        "provider_url_allowlist": TEST_ALLOWLIST,
        **settings,
    }
    lines = []
    for name, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{name} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f'{name} = "{value}"')
        else:
            lines.append(f"{name} = {value}")
    config = directory / "service.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


class Node:
    """One running ``serve`` process."""

    def __init__(self, config: Path, *, migrate: bool = False, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "inference_service", "serve", "--port", str(self.port)]
        command += ["--config", str(config)]
        if migrate:
            command.append("--migrate")
        env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
        self.log = log or config.with_suffix(".log")
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            command, env=env, cwd=config.parent, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"serve did not start: {self.log.read_text()[-4000:]}") from None
                time.sleep(0.05)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def kill(self) -> None:
        """``kill -9``: no shutdown of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log_file.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log_file.close()


@contextmanager
def running(config: Path, *, migrate: bool = False) -> Iterator[Node]:
    node = Node(config, migrate=migrate)
    try:
        yield node
    finally:
        node.stop()
