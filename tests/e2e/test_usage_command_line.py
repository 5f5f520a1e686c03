"""Usage accounting across process deaths, with the real ``inference-service serve`` as a
subprocess on a SQLite file: a SIGTERM (two workers, a flush interval far longer than the
test) loses nothing, a ``kill -9`` loses at most the last interval; and ``inference-service
usage`` prints what the table holds."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_command_line import Cli, free_port
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support import connections

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
TOKENS = (9, 12)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    reply = fake_openai.stream_reply(["ok"], usage=fake_openai.usage(*TOKENS))
    with FakeProvider(default=reply) as fake:
        yield fake


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def serve(cli: Cli, flush_interval: float, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    Path(cli.env["INFERENCE_SERVICE_CONFIG"]).write_text(
        f"usage_flush_interval = {flush_interval}\nvalidate_on_put = false\n"
        'provider_url_allowlist = "127.0.0.0/8"\n'
    )
    port = free_port()
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate", "--port", str(port)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command, env=cli.env, cwd=cli.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("serve did not start") from None
            time.sleep(0.05)


def put_chat(url: str, upstream: FakeProvider, inference_id: str) -> None:
    settings = {
        "api_key": "sk-t",
        "model_id": fake_openai.MODEL,
        "url": upstream.url + "/v1/chat/completions",
    }
    body = {"service": "openai", "service_settings": settings}
    response = httpx.put(f"{url}/_inference/chat_completion/{inference_id}", json=body)
    assert response.status_code == 200, response.text


def chat(url: str, inference_id: str, count: int, serve_pid: int | None = None) -> set[int]:
    """``count`` streams, each on a fresh connection; the worker processes that answered
    (empty where the kernel cannot tell)."""
    answered: set[int] = set()
    for _ in range(count):
        with httpx.Client(base_url=url, timeout=10) as client:
            response = client.post(f"/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
            assert response.status_code == 200 and "ok" in response.text, response.text
            if serve_pid is not None and connections.AVAILABLE:
                workers = connections.children(serve_pid)
                answered.add(connections.answering_process(int(url.rsplit(":", 1)[1]), response, workers))
    return answered


def table(cli: Cli) -> dict[str, tuple[int, int, int, int]]:
    """inference id → (requests, errors, input tokens, output tokens), read from the file."""
    with sqlite3.connect(cli.data / "inference.db") as db:
        rows = db.execute(
            "SELECT inference_id, SUM(requests), SUM(errors), SUM(input_tokens), SUM(output_tokens) "
            "FROM usage_hours GROUP BY inference_id"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_sigterm_loses_nothing_and_the_usage_command_prints_it(cli: Cli, upstream: FakeProvider) -> None:
    process, url = serve(cli, flush_interval=3600, workers=2)
    try:
        put_chat(url, upstream, "term-chat")
        put_chat(url, upstream, "term-other")
        workers = chat(url, "term-chat", 12, process.pid) | chat(url, "term-other", 2, process.pid)
        assert not connections.AVAILABLE or len(workers) == 2, "both workers should have served"
        assert table(cli) == {}  # nothing flushed yet: the interval is an hour
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    assert table(cli) == {"term-chat": (12, 0, 12 * TOKENS[0], 12 * TOKENS[1]), "term-other": (2, 0, 18, 24)}

    printed = cli.run("usage", "--since", "now-1h").stdout.splitlines()
    assert printed[0].split() == [
        "INFERENCE",
        "ID",
        "API",
        "KEY",
        "REQUESTS",
        "ERRORS",
        "INPUT",
        "TOKENS",
        "OUTPUT",
        "TOKENS",
    ]
    assert [line.split() for line in printed[1:]] == [
        ["term-chat", "-", "12", "0", "108", "144"],
        ["term-other", "-", "2", "0", "18", "24"],
        ["TOTAL", "14", "0", "126", "168"],
    ]
    by_day = cli.run("usage", "--interval", "day", "--by", "endpoint", "--inference-id", "term-other").stdout
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert [line.split() for line in by_day.splitlines()[1:]] == [
        [today, "term-other", "2", "0", "18", "24"],
        ["TOTAL", "2", "0", "18", "24"],
    ]
    assert cli.run("usage", "--since", "2999-01-01", "--by", "key").stdout.splitlines()[1].split() == [
        "TOTAL",
        "0",
        "0",
        "0",
        "0",
    ]
    bad = cli.run("usage", "--since", "last week", check=False)
    assert bad.returncode == 1 and "failed to parse [since] value [last week]" in bad.stderr


def test_kill_9_loses_at_most_the_last_interval(cli: Cli, upstream: FakeProvider) -> None:
    interval = 0.3
    process, url = serve(cli, flush_interval=interval)
    try:
        put_chat(url, upstream, "killed-chat")
        chat(url, "killed-chat", 5)
        time.sleep(interval * 4)  # flushed by now
        chat(url, "killed-chat", 3)  # the last interval: may be lost
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    requests, errors, input_tokens, _ = table(cli)["killed-chat"]
    assert 5 <= requests <= 8 and errors == 0 and input_tokens == requests * TOKENS[0]
