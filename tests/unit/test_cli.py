"""The console script's fast path: the terminal clients run without the server's stack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import inference_service

SERVER_STACK = ("starlette", "hypercorn", "sqlalchemy", "aiohttp", "alembic", "asyncpg", "aiosqlite")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    root = Path(inference_service.__file__).resolve().parent.parent  # the checkout under test
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=root, capture_output=True, text=True, timeout=60
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


def test_a_client_command_loads_none_of_the_server() -> None:
    """``embed`` against a port nobody listens on: it fails as a client (exit 1), and in doing so
    imported nothing of the server."""
    done = _run(
        f"""
        import json, sys
        from inference_service.cli import main
        code = main(["embed", "e", "text", "--url", "http://127.0.0.1:{_closed_port()}"])
        stack = {SERVER_STACK!r}
        print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in stack)]))
        """
    )
    code, loaded = json.loads(done.stdout.splitlines()[-1])
    assert code == 1
    assert "could not reach the service" in done.stderr
    assert loaded == []


def test_every_other_command_goes_to_the_full_parser() -> None:
    """``--help`` lists every command, the client ones too; an unknown command is argparse's
    usage error (exit 2) naming the choices."""
    done = _run("from inference_service.cli import main; main(['--help'])")
    for command in ("serve", "db", "endpoints", "api-keys", "usage", "secrets", "models", "chat", "embed"):
        assert command in done.stdout
    done = _run("from inference_service.cli import main; main(['nonsense'])")
    assert done.returncode == 2
    assert "invalid choice: 'nonsense'" in done.stderr
