"""The request log of a real ``inference-service serve`` process (JSON format, debug level):
every line is one JSON object, each request has exactly one request line with its counts,
and no line of the whole run holds a provider key, an API key or any prompt or answer text."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_command_line import free_port
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider

PROVIDER_KEY = "sk-serve-log-secret-98765"
PROMPT = "a prompt nobody may read in the log"
ANSWER = "an answer nobody may read either"


def test_a_full_run_logs_one_json_line_per_request_and_nothing_secret(
    tmp_path: Path, upstream: FakeProvider
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = tmp_path / "service.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nlog_format = "json"\nlog_level = "debug"\n'
        'validate_on_put = false\nprovider_url_allowlist = "127.0.0.0/8"\nlocal_model_endpoints = false\n'
        "upstream_max_retries = 0\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_SERVICE_")}
    env["INFERENCE_SERVICE_CONFIG"] = str(config)
    command = [sys.executable, "-m", "inference_service", "serve", "--migrate", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    request_ids: list[str] = []
    api_key = ""
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
                time.sleep(0.05)
        settings = {
            "api_key": PROVIDER_KEY,
            "model_id": "gpt-4o-mini",
            "url": upstream.url + "/v1/chat/completions",
        }
        put = httpx.put(
            f"{url}/_inference/chat_completion/logged",
            json={"service": "openai", "service_settings": settings},
        )
        assert put.status_code == 200, put.text
        request_ids.append(put.headers["x-request-id"])
        upstream.enqueue(
            fake_openai.stream_reply([ANSWER], usage=fake_openai.usage(11, 4)),
            fake_openai.error_reply(
                401, f"Incorrect API key provided: {PROVIDER_KEY}", "invalid_request_error"
            ),
        )
        body = {"messages": [{"role": "user", "content": PROMPT}]}
        for expected in (200, 401):
            response = httpx.post(f"{url}/_inference/chat_completion/logged/_stream", json=body, timeout=10)
            assert response.status_code == expected, response.text
            request_ids.append(response.headers["x-request-id"])
        made = httpx.put(f"{url}/_security/api_key", json={"name": "logged-admin"})
        assert made.status_code == 200, made.text
        api_key = made.json()["api_key"]
        request_ids.append(made.headers["x-request-id"])
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    lines = stderr.decode().splitlines()
    not_json = [line for line in lines if not line.startswith("{")]
    assert not not_json, not_json[:5]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = {r["request_id"]: r for r in records if r.get("logger") == "inference_service.requests"}
    for request_id in request_ids:
        assert request_id in requests, request_id
    streamed = requests[request_ids[1]]
    assert (streamed["status"], streamed["input_tokens"], streamed["output_tokens"]) == (200, 11, 4)
    assert streamed["endpoint"] == "logged" and streamed["ttft_ms"] > 0
    refused = requests[request_ids[2]]
    assert (refused["status"], refused["error_type"]) == (401, "UpstreamError")
    assert sum(1 for r in records if r.get("logger") == "inference_service.requests") == len(requests)
    whole = stderr.decode()
    for secret in (PROVIDER_KEY, api_key, PROMPT, ANSWER):
        assert secret and secret not in whole, secret
