"""Provider secrets never leak: fake providers quote the key they were sent in their refusals
(as OpenAI-compatible servers, gateways and Google do: in the message, in a quoted header, in
a URL's ``?key=``), mid-stream and before it, and a provider URL carries a credential in its
query; the answers of both faces and every log line at DEBUG (the service's, aiohttp's,
hypercorn's) must not contain it, and neither may the raw database. Each refusal also checks
the key really was sent, so that the test fails if the fake is not reached."""

from __future__ import annotations

import itertools
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from inference_service.settings import Settings
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import azureopenai as fake_azure
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.databases import raw_endpoint_rows
from tests.support.service import RunningService

_ids = itertools.count()
HI = [{"role": "user", "content": "hi"}]
# Keys of no well-known format: only the endpoint's exact values can catch them.
KEYS = {
    "openai": "tenant-openai-key-41c2",
    "anthropic": "tenant-anthropic-key-77d0",
    "azureopenai": "tenant-azure-key-09be",
    "cohere": "tenant-cohere-key-5a13",
    "jinaai": "tenant-jina-key-c3f8",
    "custom": "tenant-custom-key-e6a1",
}
EVERY_KEY = tuple(KEYS.values())


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line (with tracebacks) of the service, aiohttp and hypercorn, at DEBUG."""
    handler = Records()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in ("inference_service", "aiohttp", "hypercorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler.lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


def no_secret_in(*texts: str) -> None:
    for text in texts:
        leaked = [key for key in EVERY_KEY if key in text]
        assert not leaked, f"{leaked} in {text!r}"


def put(service: RunningService, task_type: str, service_name: str, settings: dict[str, Any]) -> str:
    inference_id = f"leak-{service_name}-{next(_ids)}"
    body: dict[str, Any] = {"service": service_name, "service_settings": settings}
    if service_name == "anthropic":
        body["task_settings"] = {"max_tokens": 16}
    created = httpx.put(f"{service.url}/_inference/{task_type}/{inference_id}", json=body)
    assert created.status_code == 200, created.text
    no_secret_in(created.text)
    return inference_id


def echo(key: str) -> str:
    """What a gateway in front of a provider says about a key it refuses."""
    return (
        f"Invalid API key {key} (header Authorization: Bearer {key}; see https://gw.example/keys?key={key})"
    )


def test_openai_refusal_before_the_stream_both_faces(
    service: RunningService, upstream: FakeProvider, log_lines: list[str]
) -> None:
    key = KEYS["openai"]
    settings = {"api_key": key, "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    inference_id = put(service, "chat_completion", "openai", settings)
    refusal = fake_openai.error_reply(401, echo(key), "invalid_request_error", "invalid_api_key")

    upstream.enqueue(refusal)
    streamed = httpx.post(
        f"{service.url}/_inference/chat_completion/{inference_id}/_stream", json={"messages": HI}
    )
    assert streamed.status_code == 401
    assert "Invalid API key <redacted>" in streamed.text

    upstream.enqueue(refusal)
    with (
        openai.OpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk,
        pytest.raises(openai.AuthenticationError) as refused,
    ):
        sdk.chat.completions.create(model=inference_id, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.code == "invalid_api_key"
    assert upstream.last_request.headers["authorization"] == f"Bearer {key}"  # the key was sent
    no_secret_in(streamed.text, str(refused.value), json.dumps(refused.value.body), *log_lines)
    assert any("provider call failed (401)" in line for line in log_lines)


def test_openai_error_event_mid_stream(
    service: RunningService, upstream: FakeProvider, log_lines: list[str]
) -> None:
    key = KEYS["openai"]
    settings = {"api_key": key, "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    inference_id = put(service, "chat_completion", "openai", settings)
    frames = [*fake_openai.stream(["partial "])[:2], fake_openai.error_frame(echo(key), "server_error")]
    upstream.enqueue(Reply.sse(frames))
    streamed = httpx.post(
        f"{service.url}/_inference/chat_completion/{inference_id}/_stream", json={"messages": HI}
    )
    assert streamed.status_code == 200 and "partial " in streamed.text
    assert "Invalid API key <redacted>" in streamed.text
    no_secret_in(streamed.text, *log_lines)


def test_anthropic_refusal(service: RunningService, upstream: FakeProvider, log_lines: list[str]) -> None:
    key = KEYS["anthropic"]
    inference_id = put(
        service, "completion", "anthropic", {"api_key": key, "model_id": "claude-x", "url": upstream.url}
    )
    upstream.enqueue(fake_anthropic.error_reply(401, "authentication_error", f"invalid x-api-key: {key}"))
    refused = httpx.post(f"{service.url}/_inference/completion/{inference_id}", json={"input": "hi"})
    assert refused.status_code == 401 and "invalid x-api-key: <redacted>" in refused.text
    assert upstream.last_request.headers["x-api-key"] == key
    no_secret_in(refused.text, *log_lines)


def test_azure_refusal_quoting_the_api_key_header(
    service: RunningService, upstream: FakeProvider, log_lines: list[str]
) -> None:
    key = KEYS["azureopenai"]
    settings = {
        "api_key": key,
        "resource_name": "my-resource",
        "deployment_id": "embed-prod",
        "api_version": "2024-10-21",
        "url": upstream.url,
        "dimensions": 3,
    }
    inference_id = put(service, "text_embedding", "azureopenai", settings)
    upstream.enqueue(fake_azure.error_reply(401, "401", f"Access denied: api-key {key} is not valid"))
    refused = httpx.post(f"{service.url}/_inference/text_embedding/{inference_id}", json={"input": "a"})
    assert refused.status_code == 401
    assert upstream.last_request.headers["api-key"] == key
    no_secret_in(refused.text, *log_lines)


@pytest.mark.parametrize(
    ("service_name", "path", "field"),
    [("cohere", "/v2/embed", "message"), ("jinaai", "/v1/embeddings", "detail")],
)
def test_bearer_providers_refusal(
    service: RunningService,
    upstream: FakeProvider,
    log_lines: list[str],
    service_name: str,
    path: str,
    field: str,
) -> None:
    key = KEYS[service_name]
    settings = {"api_key": key, "model_id": "m", "url": upstream.url + path, "dimensions": 3}
    inference_id = put(service, "text_embedding", service_name, settings)
    upstream.enqueue(Reply.json(401, {field: echo(key)}))
    refused = httpx.post(f"{service.url}/_inference/text_embedding/{inference_id}", json={"input": "a"})
    assert refused.status_code == 401 and "Invalid API key <redacted>" in refused.text
    assert upstream.last_request.headers["authorization"] == f"Bearer {key}"
    no_secret_in(refused.text, *log_lines)


def test_custom_service_echoing_its_secret_parameter(
    service: RunningService, upstream: FakeProvider, log_lines: list[str]
) -> None:
    key = KEYS["custom"]
    settings = {
        "url": upstream.url + "/embed",
        "secret_parameters": {"api_key": key},
        "headers": {"X-Api-Key": "${api_key}"},
        "request": '{"texts": ${input}, "auth": "${api_key}"}',
        "response": {"json_parser": {"text_embeddings": "$.vectors[*]"}},
        "dimensions": 3,
    }
    inference_id = put(service, "text_embedding", "custom", settings)
    body = f'{{"error": "bad request body {{\\"auth\\": \\"{key}\\"}}"}}'
    upstream.enqueue(Reply.json(400, body))
    refused = httpx.post(f"{service.url}/_inference/text_embedding/{inference_id}", json={"input": "a"})
    assert refused.status_code == 400
    assert key.encode() in upstream.last_request.body  # it was sent, and echoed
    no_secret_in(refused.text, *log_lines)


def test_connection_error_to_a_url_with_a_key_parameter(
    service: RunningService, log_lines: list[str]
) -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url_key = "in-the-url-key-8d2c"
    url = f"http://127.0.0.1:{port}/v1/chat/completions?api_key={url_key}&tenant=7"
    key = KEYS["openai"]
    inference_id = put(service, "completion", "openai", {"api_key": key, "model_id": "m", "url": url})
    refused = httpx.post(f"{service.url}/_inference/completion/{inference_id}", json={"input": "hi"})
    assert refused.status_code == 502
    reason = refused.json()["error"]["reason"]
    assert f"[http://127.0.0.1:{port}/v1/chat/completions?api_key=<redacted>&tenant=7]" in reason
    assert url_key not in refused.text
    assert not [line for line in log_lines if url_key in line]
    no_secret_in(refused.text, *log_lines)


def test_the_raw_database_holds_no_provider_key(service: RunningService, settings: Settings) -> None:
    """Every provider's key, stored: encrypted at rest, never in a listing."""
    url = "http://127.0.0.1:9/"
    for name, key in KEYS.items():
        if name == "custom":
            custom = {"url": url, "secret_parameters": {"api_key": key}, "request": "${input}"}
            custom["response"] = {"json_parser": {"text_embeddings": "$.vectors[*]"}}
            put(service, "text_embedding", name, custom)
        elif name == "azureopenai":
            azure = {"api_key": key, "resource_name": "r", "deployment_id": "d", "api_version": "2024-10-21"}
            put(service, "text_embedding", name, azure)
        else:
            task_type = "completion" if name in ("openai", "anthropic") else "text_embedding"
            put(service, task_type, name, {"api_key": key, "model_id": "m", "url": url})
    listed = httpx.get(f"{service.url}/_inference/_all")
    assert listed.status_code == 200
    no_secret_in(listed.text)
    raw = raw_endpoint_rows(settings)
    assert all(f"leak-{name}-".encode() in raw for name in KEYS)  # we are looking at the right rows
    for key in EVERY_KEY:
        assert key.encode() not in raw, key
