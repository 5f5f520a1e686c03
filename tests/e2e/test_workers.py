"""Two hypercorn workers (``serve --workers 2``) stay consistent: a change made through one is
served by both, without any per-request database query.

Each phase sends requests on fresh connections until both worker processes have answered,
and checks every answer; which process answered is read from the kernel
(:mod:`tests.support.connections`). The settings come from a ``--config`` file only: workers
can serve them only if ``serve`` handed its resolved settings over.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support import connections

pytestmark = pytest.mark.skipif(not connections.AVAILABLE, reason="needs Linux /proc/net/tcp")

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
REFRESH = 0.3
MAX_ATTEMPTS = 200
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TwoWorkers:
    url: str
    port: int
    pid: int  # the ``serve`` process; the workers are its children


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=Reply.sse(fake_openai.stream(["ok"]))) as fake:
        yield fake


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoWorkers]:
    data = tmp_path_factory.mktemp("workers")
    config = data / "service.toml"
    config.write_text(
        f'data_dir = "{data}"\ncatalog_refresh_interval = {REFRESH}\nvalidate_on_put = false\n'
        'provider_url_allowlist = "127.0.0.0/8"\n'  # the fake provider
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate", "--workers", "2"]
    command += ["--port", str(port), "--config", str(config)]
    cwd = tmp_path_factory.mktemp("cwd")
    process = subprocess.Popen(command, env=env, cwd=cwd, stderr=subprocess.PIPE)
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
        yield TwoWorkers(url, port, process.pid)
    finally:
        process.terminate()
        process.wait(20)
        assert process.stderr is not None
        process.stderr.close()


def by_worker(
    service: TwoWorkers, send: Callable[[httpx.Client], tuple[httpx.Response, T]]
) -> dict[int, list[T]]:
    """``send`` on a fresh connection each time until two worker processes have answered;
    what each returned, grouped by the process that answered."""
    answers: dict[int, list[T]] = {}
    for _ in range(MAX_ATTEMPTS):
        with httpx.Client(base_url=service.url, timeout=10) as client:
            response, outcome = send(client)
            # Asked while the connection is still open: its server side belongs to one worker.
            worker = connections.answering_process(service.port, response, connections.children(service.pid))
        answers.setdefault(worker, []).append(outcome)
        if len(answers) == 2:
            return answers
    raise AssertionError(f"only {sorted(answers)} answered in {MAX_ATTEMPTS} fresh connections")


def stream_models(service: TwoWorkers, upstream: FakeProvider, inference_id: str) -> dict[int, set[str]]:
    """Per worker, the models its streams asked the provider for."""

    def send(client: httpx.Client) -> tuple[httpx.Response, str]:
        before = len(upstream.requests)
        response = client.post(f"/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
        assert response.status_code == 200, response.text
        [request] = upstream.requests[before:]
        return response, str(request.json["model"])

    return {worker: set(models) for worker, models in by_worker(service, send).items()}


def status(path: str) -> Callable[[httpx.Client], tuple[httpx.Response, int]]:
    def send(client: httpx.Client) -> tuple[httpx.Response, int]:
        response = client.post(path, json=CHAT) if path.endswith("/_stream") else client.get(path)
        return response, response.status_code

    return send


def test_changes_reach_every_worker(two_workers: TwoWorkers, upstream: FakeProvider) -> None:
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "k",
            "model_id": "model-a",
            "url": upstream.url + "/v1/chat/completions",
        },
    }
    assert httpx.put(f"{two_workers.url}/_inference/chat_completion/shared", json=body).status_code == 200
    # Created a moment ago on one worker: the other finds it too (a cache miss loads it).
    assert list(stream_models(two_workers, upstream, "shared").values()) == [{"model-a"}, {"model-a"}]
    time.sleep(REFRESH * 3)
    update = {"service_settings": {"model_id": "model-b"}}
    assert httpx.put(f"{two_workers.url}/_inference/shared/_update", json=update).status_code == 200
    time.sleep(REFRESH * 4)
    assert list(stream_models(two_workers, upstream, "shared").values()) == [{"model-b"}, {"model-b"}]
    assert httpx.delete(f"{two_workers.url}/_inference/shared").status_code == 200
    time.sleep(REFRESH * 4)
    gone = by_worker(two_workers, status("/_inference/chat_completion/shared/_stream"))
    assert [set(codes) for codes in gone.values()] == [{404}, {404}]


def test_two_worker_processes_answer(two_workers: TwoWorkers) -> None:
    answered = by_worker(two_workers, status("/"))
    assert [set(codes) for codes in answered.values()] == [{200}, {200}]


def test_metrics_add_up_both_workers(two_workers: TwoWorkers, upstream: FakeProvider) -> None:
    body = {
        "service": "openai",
        "service_settings": {"api_key": "k", "model_id": "m", "url": upstream.url + "/v1/chat/completions"},
    }
    assert httpx.put(f"{two_workers.url}/_inference/chat_completion/metered", json=body).status_code == 200
    time.sleep(REFRESH * 3)
    streams = by_worker(two_workers, status("/_inference/chat_completion/metered/_stream"))
    sent = sum(len(codes) for codes in streams.values())
    assert all(codes and set(codes) == {200} for codes in streams.values())

    def total(client: httpx.Client) -> tuple[httpx.Response, float]:
        response = client.get("/metrics")
        found = [
            sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == "inference_service_requests_total"
            and sample.labels.get("endpoint") == "metered"
        ]
        return response, sum(found)

    seen = by_worker(two_workers, total)
    # each worker answered some of the streams, and each reports all of them
    assert [set(values) for values in seen.values()] == [{sent}, {sent}]


def test_an_invalidated_key_stops_working_on_both_workers(two_workers: TwoWorkers) -> None:
    """Last in this module: the first key turns authentication on for both workers. A key
    invalidated through one worker is refused by the other within the refresh interval,
    though that worker had verified (and cached) it."""
    made = httpx.put(f"{two_workers.url}/_security/api_key", json={"name": "admin"})
    assert made.status_code == 200, made.text
    admin = {"authorization": "ApiKey " + made.json()["encoded"]}
    time.sleep(REFRESH * 4)
    assert [set(c) for c in by_worker(two_workers, status("/_inference")).values()] == [{401}, {401}]
    victim = httpx.put(f"{two_workers.url}/_security/api_key", json={"name": "victim"}, headers=admin).json()
    time.sleep(REFRESH * 4)
    victim_header = {"authorization": "ApiKey " + victim["encoded"]}

    def with_victim(client: httpx.Client) -> tuple[httpx.Response, int]:
        response = client.get("/_inference", headers=victim_header)
        return response, response.status_code

    assert [set(c) for c in by_worker(two_workers, with_victim).values()] == [{200}, {200}]
    gone = httpx.request(
        "DELETE", f"{two_workers.url}/_security/api_key", json={"ids": [victim["id"]]}, headers=admin
    )
    assert gone.json()["invalidated_api_keys"] == [victim["id"]]
    time.sleep(REFRESH * 4)
    assert [set(c) for c in by_worker(two_workers, with_victim).values()] == [{401}, {401}]
