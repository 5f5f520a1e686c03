"""The SDK with API keys against the real service: the encoded key as ``Authorization: ApiKey``,
from the argument or ``INFERENCE_SERVICE_API_KEY``; refusals as AuthenticationError (401) and
PermissionDeniedError (403), never retried."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from inference_service.client import AuthenticationError, InferenceClient, PermissionDeniedError
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, migrated_service

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("sdk-auth")) as running:
        yield running


@pytest.fixture(scope="module")
def keys(svc: RunningService, upstream: FakeProvider) -> dict[str, str]:
    """Endpoints made while the service is open, then a manage key and a read-only key."""
    with InferenceClient(svc.url) as open_client:
        embed = {"api_key": "sk", "model_id": fake.MODEL, "url": upstream.url + "/v1/embeddings"}
        open_client.endpoints.create(
            "emb", task_type="text_embedding", service="openai", service_settings=embed
        )
        chat = {"api_key": "sk", "model_id": "m", "url": upstream.url + "/v1/chat/completions"}
        open_client.endpoints.create(
            "chat", task_type="chat_completion", service="openai", service_settings=chat
        )

    def create(body: dict[str, Any], encoded: str | None = None) -> str:
        headers = {"authorization": f"ApiKey {encoded}"} if encoded else {}
        made = httpx.post(f"{svc.url}/_security/api_key", json=body, headers=headers, timeout=30)
        assert made.status_code == 200, made.text
        return str(made.json()["encoded"])

    admin = create({"name": "admin"})
    reader = create({"name": "reader", "role_descriptors": {"r": {"cluster": ["monitor_inference"]}}}, admin)
    return {"admin": admin, "reader": reader}


def test_the_key_opens_the_service(
    svc: RunningService, keys: dict[str, str], upstream: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.enqueue(fake.reply([[0.5, 0.25]]), fake_openai.stream_reply(["ok"]))
    with InferenceClient(svc.url, api_key=keys["admin"]) as client:
        assert client.embedding(model="emb", input="x").embeddings == [[0.5, 0.25]]
    monkeypatch.setenv("INFERENCE_SERVICE_API_KEY", keys["admin"])
    with (
        InferenceClient(svc.url) as client,
        client.chat_completion(model="chat", messages=MESSAGES, stream=True) as s,
    ):
        assert "".join(c.content for c in s) == "ok"


def test_no_key_or_a_wrong_key_is_a_401(svc: RunningService, keys: dict[str, str]) -> None:
    with InferenceClient(svc.url, max_retries=2) as client, pytest.raises(AuthenticationError) as missing:
        client.endpoints.list()
    assert (missing.value.status, missing.value.type) == (401, "security_exception")
    assert missing.value.reason == "missing authentication credentials for REST request [/_inference/_all]"
    with (
        InferenceClient(svc.url, api_key="bm90OmEta2V5") as client,
        pytest.raises(AuthenticationError) as wrong,
    ):
        client.chat_completion(model="chat", messages=MESSAGES, stream=True)
    assert wrong.value.status == 401 and "bm90OmEta2V5" not in str(wrong.value)


def test_a_key_without_the_privilege_is_a_403(svc: RunningService, keys: dict[str, str]) -> None:
    with InferenceClient(svc.url, api_key=keys["reader"]) as client:
        assert client.endpoints.get("emb").inference_id == "emb"
        with pytest.raises(PermissionDeniedError) as refused:
            client.endpoints.delete("emb")
        assert (refused.value.status, refused.value.type) == (403, "security_exception")
        assert client.endpoints.get("emb").inference_id == "emb"  # still there
