"""SIGTERM on a real ``inference-service serve`` process, with one worker and with two.

A stream shorter than ``shutdown_grace`` finishes; one longer ends with the shutting-down error
frame (on both faces); ``/_health/ready`` answers 503 on a kept-alive connection while the
process drains and new connections are refused; the usage counts are flushed; the exit code
is 0. A second SIGTERM, or a SIGINT, ends a drain at once (long before its grace)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_command_line import free_port
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply

SHORT = [f"s{i} " for i in range(8)]  # 8 chunks 0.1 s apart: well inside the grace
LONG = [f"l{i} " for i in range(400)]  # 400 chunks 0.2 s apart: far beyond it
GRACE = 6.0
SHUTTING_DOWN = "The service is shutting down"


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path

    def stderr(self) -> str:
        """The service's log so far."""
        return self.log.read_text("utf-8", "replace")


@contextmanager
def serve(tmp_path: Path, upstream: FakeProvider, *, workers: int, grace: float) -> Iterator[Served]:
    port = free_port()
    data_dir = tmp_path / "data"
    config = tmp_path / "service.toml"
    config.write_text(
        f'data_dir = "{data_dir}"\nvalidate_on_put = false\nprovider_url_allowlist = "127.0.0.0/8"\n'
        f"local_model_endpoints = false\nupstream_max_retries = 0\nworkers = {workers}\n"
        f"shutdown_grace = {grace}\nusage_flush_interval = 3600\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
    env["INFERENCE_SERVICE_CONFIG"] = str(config)
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/_health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
            time.sleep(0.05)
        put = httpx.put(
            f"{url}/_inference/chat_completion/slow",
            json={
                "service": "openai",
                "service_settings": {
                    "api_key": "sk-drain",
                    "model_id": "gpt-4o-mini",
                    "url": upstream.url + "/v1/chat/completions",
                },
            },
        )
        assert put.status_code == 200, put.text
        yield Served(url, port, process, data_dir, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def reply_for(body: Any) -> Reply:
    """The prompt names the reply: "short" or "long"."""
    content = body["messages"][0]["content"]
    pieces = SHORT if content == "short" else LONG
    return fake_openai.stream_reply(pieces, gap=0.1 if content == "short" else 0.2)


@dataclass
class Stream:
    """A stream read on its own thread; ``started`` once its first frame is in."""

    url: str
    path: str
    prompt: str
    started: threading.Event = field(default_factory=threading.Event)
    text: str = ""
    status: int = 0

    def run(self) -> threading.Thread:
        thread = threading.Thread(target=self._read, daemon=True)
        thread.start()
        return thread

    def _read(self) -> None:
        body: dict[str, Any] = {"messages": [{"role": "user", "content": self.prompt}]}
        if self.path.startswith("/v1"):
            body |= {"model": "slow", "stream": True}
        try:
            with httpx.stream("POST", self.url + self.path, json=body, timeout=120) as response:
                self.status = response.status_code
                for text in response.iter_text():
                    self.text += text
                    self.started.set()
        except httpx.TransportError as exc:  # the process was killed: the test checks the text
            self.text += f"\n<{type(exc).__name__}>"


def kept_alive(port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/_health/ready")
    response = connection.getresponse()
    assert response.status == 200, response.read()
    response.read()
    return connection


def wait_not_ready(connection: http.client.HTTPConnection) -> dict[str, Any]:
    """Ask on the kept-alive connection until the drain shows (each answer before it is 200).

    One worker only: with several, each drains its own requests, and one with none in flight
    is done (and closes its idle connections) at once."""
    while True:
        connection.request("GET", "/_health/ready")
        response = connection.getresponse()
        body: dict[str, Any] = json.loads(response.read())
        if response.status == 503:
            assert response.getheader("connection") == "close"
            return body
        assert response.status == 200, body
        time.sleep(0.05)


def wait_refused(port: int) -> None:
    """New connections are refused once every worker has closed its listener (with two
    workers the second may take one poll of the shutdown event, 0.1 s, to notice)."""
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/_health/live")
            connection.getresponse().read()
        except ConnectionRefusedError:
            return
        except (ConnectionError, http.client.HTTPException):
            pass  # queued on a listener that closed meanwhile: reset
        finally:
            connection.close()
        time.sleep(0.05)


def usage_requests(data_dir: Path) -> int:
    (database,) = data_dir.rglob("*.db")
    with sqlite3.connect(database) as connection:
        (total,) = connection.execute("SELECT COALESCE(SUM(requests), 0) FROM usage_hours").fetchone()
    return int(total)


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_streams_within_the_grace_and_ends_the_rest(
    tmp_path: Path, upstream: FakeProvider, workers: int
) -> None:
    upstream.respond_by(reply_for)
    try:
        with serve(tmp_path, upstream, workers=workers, grace=GRACE) as served:
            probe = kept_alive(served.port)
            long_es = Stream(served.url, "/_inference/chat_completion/slow/_stream", "long")
            long_openai = Stream(served.url, "/v1/chat/completions", "long")
            short = Stream(served.url, "/_inference/chat_completion/slow/_stream", "short")
            threads = [stream.run() for stream in (long_es, long_openai, short)]
            for stream in (long_es, long_openai, short):
                assert stream.started.wait(30), "a stream did not start"
            served.process.send_signal(signal.SIGTERM)

            if workers == 1:  # with two, the probe's worker may have had nothing to drain
                body = wait_not_ready(probe)
                assert body["failing"] == ["draining"], body
                assert body["checks"]["draining"] == "the service is shutting down"
            wait_refused(served.port)
            probe.close()

            for thread in threads:
                thread.join(timeout=60)
            assert served.process.wait(timeout=60) == 0, served.stderr()

            assert short.text.endswith("data: [DONE]\n\n"), short.text[-300:]
            assert "s7" in short.text and SHUTTING_DOWN not in short.text
            for stream in (long_es, long_openai):
                assert stream.status == 200
                assert "[DONE]" not in stream.text
                last = stream.text.rstrip("\n").rsplit("\n\n", 1)[-1]
                assert SHUTTING_DOWN in last, last
            assert long_es.text.rstrip("\n").rsplit("\n\n", 1)[-1].startswith("event: error")
            # the lifespan's shutdown ran: the usage counts (the PUT, three streams) were flushed
            assert usage_requests(served.data_dir) >= 3
    finally:
        upstream.respond_by(None)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("second", "code"), [(signal.SIGTERM, 128 + 15), (signal.SIGINT, 128 + 2)])
def test_a_second_sigterm_or_a_sigint_exits_at_once(
    tmp_path: Path, upstream: FakeProvider, workers: int, second: signal.Signals, code: int
) -> None:
    upstream.respond_by(reply_for)
    try:
        with serve(tmp_path, upstream, workers=workers, grace=600) as served:
            probe = kept_alive(served.port)
            stream = Stream(served.url, "/_inference/chat_completion/slow/_stream", "long")
            thread = stream.run()
            assert stream.started.wait(30)
            served.process.send_signal(signal.SIGTERM)
            if workers == 1:
                wait_not_ready(probe)  # draining, for up to 600 s
            wait_refused(served.port)  # the first SIGTERM has been handled
            probe.close()
            served.process.send_signal(second)
            assert served.process.wait(timeout=30) == code, served.stderr()
            thread.join(timeout=30)
            assert "[DONE]" not in stream.text
    finally:
        upstream.respond_by(None)


def test_sigint_exits_at_once_without_a_drain(tmp_path: Path, upstream: FakeProvider) -> None:
    upstream.respond_by(reply_for)
    try:
        with serve(tmp_path, upstream, workers=1, grace=600) as served:
            stream = Stream(served.url, "/_inference/chat_completion/slow/_stream", "long")
            thread = stream.run()
            assert stream.started.wait(30)
            served.process.send_signal(signal.SIGINT)
            assert served.process.wait(timeout=30) == 130, served.stderr()
            thread.join(timeout=30)
    finally:
        upstream.respond_by(None)
