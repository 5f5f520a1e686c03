"""The OpenAI-compatible services (mistral, deepseek, hugging_face, azureopenai): same code,
different data. Each sends its own URL, auth header, model field and token-limit name."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 7}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("compat"), sse_bom=False) as running:
        yield running


def put(svc: RunningService, inference_id: str, body: dict[str, Any]) -> None:
    response = httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}", json=body)
    assert response.status_code == 200, response.text
    assert "api_key" not in response.text and "entra_id" not in response.text


def run(svc: RunningService, upstream: FakeProvider, inference_id: str) -> Any:
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])))
    response = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
    assert response.status_code == 200, response.text
    assert response.text.endswith("data: [DONE]\n\n")
    return upstream.requests[-1]


def test_mistral_uses_model_and_max_tokens(svc: RunningService, upstream: FakeProvider) -> None:
    settings = {
        "api_key": "mk",
        "model": "mistral-small-latest",
        "url": upstream.url + "/v1/chat/completions",
    }
    put(svc, "mistral-chat", {"service": "mistral", "service_settings": settings})
    sent = run(svc, upstream, "mistral-chat")
    assert sent.headers["authorization"] == "Bearer mk"
    assert sent.json["model"] == "mistral-small-latest"
    assert sent.json["max_tokens"] == 7 and "max_completion_tokens" not in sent.json


def test_deepseek(svc: RunningService, upstream: FakeProvider) -> None:
    settings = {"api_key": "dk", "model_id": "deepseek-chat", "url": upstream.url + "/chat/completions"}
    put(svc, "deepseek-chat", {"service": "deepseek", "service_settings": settings})
    sent = run(svc, upstream, "deepseek-chat")
    assert sent.path == "/chat/completions"
    assert (sent.json["model"], sent.json["max_tokens"]) == ("deepseek-chat", 7)


def test_hugging_face_requires_a_chat_url(svc: RunningService, upstream: FakeProvider) -> None:
    bad = {
        "service": "hugging_face",
        "service_settings": {"api_key": "hk", "url": upstream.url + "/generate"},
    }
    response = httpx.put(f"{svc.url}/_inference/chat_completion/hf-bad", json=bad)
    assert response.status_code == 400
    assert "/v1/chat/completions" in response.json()["error"]["reason"]
    settings = {"api_key": "hk", "url": upstream.url + "/v1/chat/completions", "model_id": "tgi"}
    put(svc, "hf-chat", {"service": "hugging_face", "service_settings": settings})
    sent = run(svc, upstream, "hf-chat")
    assert sent.headers["authorization"] == "Bearer hk"
    assert sent.json["model"] == "tgi"


def test_azure_openai_url_and_api_key_header(svc: RunningService, upstream: FakeProvider) -> None:
    settings = {
        "api_key": "az-key",
        "resource_name": "my-resource",
        "deployment_id": "gpt4o-prod",
        "api_version": "2024-10-21",
        "url": upstream.url,
    }
    put(
        svc,
        "azure-chat",
        {"service": "azureopenai", "service_settings": settings, "task_settings": {"user": "u"}},
    )
    sent = run(svc, upstream, "azure-chat")
    assert sent.target == "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
    assert sent.headers["api-key"] == "az-key" and "authorization" not in sent.headers
    assert "model" not in sent.json and sent.json["user"] == "u"


def test_azure_openai_entra_id_and_exactly_one_secret(svc: RunningService, upstream: FakeProvider) -> None:
    base = {"resource_name": "r", "deployment_id": "d", "api_version": "2024-10-21", "url": upstream.url}
    put(svc, "azure-entra", {"service": "azureopenai", "service_settings": {**base, "entra_id": "tok"}})
    sent = run(svc, upstream, "azure-entra")
    assert sent.headers["authorization"] == "Bearer tok" and "api-key" not in sent.headers
    for secrets in ({}, {"api_key": "a", "entra_id": "b"}):
        body = {"service": "azureopenai", "service_settings": {**base, **secrets}}
        response = httpx.put(f"{svc.url}/_inference/chat_completion/azure-bad", json=body)
        assert response.status_code == 400
        assert "exactly one of [api_key] or [entra_id]" in response.json()["error"]["reason"]


def test_unreachable_provider_is_502(svc: RunningService) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {"api_key": "k", "model_id": "m", "url": f"http://127.0.0.1:{port}/v1/chat/completions"}
    put(svc, "nowhere", {"service": "openai", "service_settings": settings})
    response = httpx.post(f"{svc.url}/_inference/chat_completion/nowhere/_stream", json=CHAT)
    assert response.status_code == 502
    assert "Could not connect to the provider" in response.text


def test_bom_compatibility_setting(tmp_path_factory: pytest.TempPathFactory, upstream: FakeProvider) -> None:
    with migrated_service(tmp_path_factory.mktemp("bom"), sse_bom=True) as bom_svc:
        body = {"api_key": "k", "model_id": "m", "url": upstream.url + "/v1/chat/completions"}
        put(bom_svc, "bom", {"service": "openai", "service_settings": body})
        upstream.enqueue(Reply.sse(fake_openai.stream(["x"])))
        raw = httpx.post(f"{bom_svc.url}/_inference/chat_completion/bom/_stream", json=CHAT).content
    frames = [f for f in raw.split(b"\n\n") if f]
    assert frames and all(f.startswith(b"\xef\xbb\xbfevent: message\n") for f in frames)
    assert frames[-1] == b"\xef\xbb\xbfevent: message\ndata: [DONE]"
