"""Two hypercorn workers (``serve --workers 2``) stay consistent: a change made through one is
served by both, without any per-request database query."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
REFRESH = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=Reply.sse(fake_openai.stream(["ok"]))) as fake:
        yield fake


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("workers")
    config = data / "service.toml"
    config.write_text("")
    port = free_port()
    env = {
        **os.environ,
        "INFERENCE_SERVICE_DATA_DIR": str(data),
        "INFERENCE_SERVICE_CATALOG_REFRESH_INTERVAL": str(REFRESH),
        "INFERENCE_SERVICE_VALIDATE_ON_PUT": "false",
    }
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate", "--workers", "2"]
    command += ["--port", str(port), "--config", str(config)]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).parents[2], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    assert process.stderr is not None
                    raise RuntimeError(f"service did not start: {process.stderr.read()!r}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(20)
        assert process.stderr is not None
        process.stderr.close()


def models_served(url: str, upstream: FakeProvider, inference_id: str, count: int) -> set[str]:
    """Stream ``count`` times on fresh connections (spread over both workers)."""
    before = len(upstream.requests)
    for _ in range(count):
        response = httpx.post(f"{url}/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
        assert response.status_code == 200, response.text
    return {r.json["model"] for r in upstream.requests[before:]}


def test_changes_reach_every_worker(two_workers: str, upstream: FakeProvider) -> None:
    url = two_workers
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "k",
            "model_id": "model-a",
            "url": upstream.url + "/v1/chat/completions",
        },
    }
    assert httpx.put(f"{url}/_inference/chat_completion/shared", json=body).status_code == 200
    # Created a moment ago on one worker: the other finds it too (a cache miss loads it).
    assert models_served(url, upstream, "shared", 12) == {"model-a"}
    time.sleep(REFRESH * 3)
    update = {"service_settings": {"model_id": "model-b"}}
    assert httpx.put(f"{url}/_inference/shared/_update", json=update).status_code == 200
    time.sleep(REFRESH * 4)
    assert models_served(url, upstream, "shared", 12) == {"model-b"}
    assert httpx.delete(f"{url}/_inference/shared").status_code == 200
    time.sleep(REFRESH * 4)
    for _ in range(12):
        response = httpx.post(f"{url}/_inference/chat_completion/shared/_stream", json=CHAT)
        assert response.status_code == 404
