"""A connection its client has closed leaves nothing behind in the server (issue 15).

The service runs with the keep-alive it ships (75 s, ``config/hypercorn.toml``). Before the fix
in :mod:`inference_service.connections`, every connection a client closed while idle kept its
hypercorn task, its keep-alive timer task and a scheduled timer until those 75 s were up, so
these checks waited in vain: the test would have had to outlive the keep-alive to pass. Now the
server lets go of the connection as soon as it reads the client's EOF. What is counted lives
inside the service's loop: hypercorn's per-connection tasks, all tasks, and timers not cancelled.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, run_service

KEEP_ALIVE_S = 75.0  # as config/hypercorn.toml: far longer than any wait below
SETTLE_S = 10.0  # how long the server may take to notice closed clients (it takes milliseconds)
CLIENTS = 20
CHAT = {"messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    settings = make_settings(Path(tmp_path_factory.mktemp("lifetime")), stream_idle_timeout=60)
    upgrade(settings)
    with run_service(settings, keep_alive_timeout=KEEP_ALIVE_S) as running:
        yield running


def _is_connection(task: asyncio.Task[object]) -> bool:
    """hypercorn runs each accepted connection as one task of its worker's ``_server_callback``."""
    name: str = getattr(task.get_coro(), "__qualname__", "")
    return name.endswith("_server_callback")


def _counts() -> dict[str, int]:
    """Inside the service's loop: connection tasks, all tasks, live (not cancelled) timers."""
    loop = asyncio.get_running_loop()
    tasks = asyncio.all_tasks()
    scheduled: list[asyncio.TimerHandle] = vars(loop)["_scheduled"]
    return {
        "connections": sum(1 for task in tasks if _is_connection(task)),
        "tasks": len(tasks) - 1,  # not the probe's own task
        "timers": sum(1 for handle in scheduled if not handle.cancelled()),
    }


def settled(svc: RunningService) -> dict[str, int]:
    """The counts once no client connection is left (or after SETTLE_S, for the assertion)."""
    deadline = time.monotonic() + SETTLE_S
    counts = svc.inspect(_counts)
    while counts["connections"] and time.monotonic() < deadline:
        time.sleep(0.02)
        counts = svc.inspect(_counts)
    return counts


@pytest.fixture
def baseline(svc: RunningService) -> dict[str, int]:
    return settled(svc)


def make_endpoint(svc: RunningService, upstream: FakeProvider, name: str) -> str:
    body: dict[str, Any] = {
        "service": "openai",
        "service_settings": {
            "api_key": "sk-test",
            "model_id": "gpt-4o-mini",
            "url": upstream.url + "/v1/chat/completions",
        },
    }
    response = httpx.put(f"{svc.url}/_inference/chat_completion/{name}", json=body)
    assert response.status_code == 200, response.text
    return f"{svc.url}/_inference/chat_completion/{name}/_stream"


def assert_nothing_left(svc: RunningService, baseline: dict[str, int]) -> None:
    after = settled(svc)
    assert after["connections"] == 0, after
    assert after["tasks"] == baseline["tasks"], (baseline, after)
    # a pool's cleanup timer may come and go; one per finished client would be CLIENTS more
    assert after["timers"] <= baseline["timers"] + 2, (baseline, after)


def read_response(sock: socket.socket) -> bytes:
    """One whole ``content-length`` framed response."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_idle_keep_alive_connections_closed_by_their_clients_are_released(
    svc: RunningService, baseline: dict[str, int]
) -> None:
    for _ in range(CLIENTS):
        with httpx.Client(base_url=svc.url) as client:
            assert client.get("/").status_code == 200  # the connection is idle, kept alive
    assert_nothing_left(svc, baseline)


def test_a_raw_client_that_closes_after_its_answer_is_released(
    svc: RunningService, baseline: dict[str, int]
) -> None:
    """Also a client that only shuts down its sending side (half-close) after the answer."""
    url = urlsplit(svc.url)
    for half_close in (False, True):
        for _ in range(CLIENTS // 2):
            with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
                assert read_response(sock).startswith(b"HTTP/1.1 200 ")
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
                    assert sock.recv(65536) == b""  # the server closes its side in turn
    assert_nothing_left(svc, baseline)


def test_finished_streams_leave_no_task_or_timer(
    svc: RunningService, upstream: FakeProvider, baseline: dict[str, int]
) -> None:
    stream_url = make_endpoint(svc, upstream, "finished")
    baseline = settled(svc)  # the PUT's own connection has gone too
    for _ in range(CLIENTS):
        upstream.enqueue(Reply.sse(fake_openai.stream(["a", "b"])))
        with httpx.Client() as client:
            response = client.post(stream_url, json=CHAT)
            assert response.status_code == 200
            assert response.text.endswith("data: [DONE]\n\n")
    assert_nothing_left(svc, baseline)


def test_streams_whose_clients_leave_midway_leave_no_task_or_timer(
    svc: RunningService, upstream: FakeProvider, baseline: dict[str, int]
) -> None:
    stream_url = make_endpoint(svc, upstream, "abandoned")
    baseline = settled(svc)
    for _ in range(CLIENTS):
        upstream.enqueue(Reply.sse(fake_openai.stream(["first"])[:2], end="hang"))
        with httpx.stream("POST", stream_url, json=CHAT) as response:
            assert response.status_code == 200
            next(response.iter_raw())
    for index in range(len(upstream.requests) - CLIENTS, len(upstream.requests)):
        upstream.wait_for_disconnect(timeout=SETTLE_S, index=index)
    assert_nothing_left(svc, baseline)


ROOT = Path(__file__).resolve().parents[2]
LISTEN = "0A"  # /proc/net/tcp state codes


def server_side_states(port: int) -> list[str]:
    """States of the accepted sockets on ``port`` (not the listening one), from the kernel."""
    states = []
    for table in ("tcp", "tcp6"):
        path = Path("/proc/net") / table
        if path.is_file():
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != LISTEN:
                    states.append(fields[3])
    return states


@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="needs Linux /proc/net/tcp")
def test_serve_closes_its_side_of_connections_clients_closed(tmp_path: Path) -> None:
    """``inference-service serve`` as shipped (uvloop worker, the packaged 75 s keep-alive):
    the server's side of each connection a client closed goes at once, instead of sitting in
    ``CLOSE_WAIT`` until the keep-alive timer fires."""
    config = tmp_path / "service.toml"
    config.write_text(f'data_dir = "{tmp_path}"\nlocal_model_endpoints = false\n')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout, wherever the test runs from
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate"]
    command += ["--port", str(port), "--config", str(config)]
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"service did not start: {log.read_text()}") from None
                time.sleep(0.1)
        for _ in range(CLIENTS):
            with httpx.Client() as client:
                assert client.get(f"http://127.0.0.1:{port}/").status_code == 200
        deadline = time.monotonic() + SETTLE_S
        while server_side_states(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server_side_states(port) == []
    finally:
        process.terminate()
        process.wait(30)
