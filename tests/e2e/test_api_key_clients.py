"""API keys through the real clients: the official ``elasticsearch`` client with
``api_key=(id, key)`` and with the encoded form, its ``security`` API, and the OpenAI SDK with
``api_key=encoded``, each refusal arriving as the client's own typed exception."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import elasticsearch
import httpx
import openai
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import openai_embeddings as fake
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider(default=fake.reply([[0.5, 0.25, 0.125]])) as server:
        yield server


@pytest.fixture(scope="module")
def admin(service: RunningService, upstream: FakeProvider) -> dict[str, Any]:
    """An embeddings endpoint and the first (manage) key, made while the service is open."""
    settings = {"api_key": "sk-up", "model_id": fake.MODEL, "url": upstream.url + "/v1/embeddings"}
    body = {"service": "openai", "service_settings": settings}
    assert httpx.put(f"{service.url}/_inference/text_embedding/emb", json=body).status_code == 200
    with Elasticsearch(service.url, request_timeout=30) as open_client:
        made: dict[str, Any] = open_client.security.create_api_key(name="admin").body
    return made


def es(service: RunningService, api_key: str | tuple[str, str]) -> Elasticsearch:
    return Elasticsearch(service.url, api_key=api_key, request_timeout=30)


def test_official_client_with_id_and_key_and_with_the_encoded_form(
    service: RunningService, admin: dict[str, Any]
) -> None:
    for credential in ((admin["id"], admin["api_key"]), admin["encoded"]):
        with es(service, credential) as client:
            listed = client.inference.get()["endpoints"]
            assert [e["inference_id"] for e in listed if not e["inference_id"].startswith(".")] == ["emb"]
            answer = client.inference.inference(inference_id="emb", task_type="text_embedding", input="hi")
            assert answer["text_embedding"][0]["embedding"] == [0.5, 0.25, 0.125]
            me = client.security.authenticate()
            assert me["api_key"] == {"id": admin["id"], "name": "admin", "role": "manage", "endpoints": None}


def test_official_client_security_api(service: RunningService, admin: dict[str, Any]) -> None:
    with es(service, admin["encoded"]) as client:
        made = client.security.create_api_key(
            name="reader",
            expiration="7d",
            role_descriptors={"reader": {"cluster": ["monitor_inference"]}},
            metadata={"team": "search"},
        )
        assert set(made) == {"id", "name", "expiration", "api_key", "encoded"}
        listed = client.security.get_api_key(id=made["id"])["api_keys"]
        assert [(k["name"], k["role"], k["metadata"], k["invalidated"]) for k in listed] == [
            ("reader", "monitor", {"team": "search"}, False)
        ]
        assert listed[0]["expiration"] == made["expiration"]
        assert listed[0]["role_descriptors"] == {"monitor": {"cluster": ["monitor_inference"]}}
        with es(service, (made["id"], made["api_key"])) as reader:
            assert reader.inference.get(inference_id="emb")["endpoints"][0]["inference_id"] == "emb"
            with pytest.raises(elasticsearch.AuthorizationException) as refused:
                reader.inference.delete(inference_id="emb")
            assert refused.value.meta.status == 403
            assert refused.value.body["error"]["type"] == "security_exception"
            with pytest.raises(elasticsearch.AuthorizationException):
                reader.security.create_api_key(name="escalate")
        gone = client.security.invalidate_api_key(ids=[made["id"]])
        assert gone["invalidated_api_keys"] == [made["id"]]
        with es(service, made["encoded"]) as reader:
            with pytest.raises(elasticsearch.AuthenticationException) as unknown:
                reader.inference.get()
            assert unknown.value.meta.status == 401
            assert unknown.value.meta.headers["www-authenticate"] == "ApiKey"


def test_official_client_without_a_key(service: RunningService, admin: dict[str, Any]) -> None:
    with Elasticsearch(service.url, request_timeout=30) as client:
        assert client.info()["tagline"] == "You Know, for Search"  # GET / stays public
        with pytest.raises(elasticsearch.AuthenticationException) as missing:
            client.inference.get()
        assert missing.value.body["error"]["reason"] == (
            "missing authentication credentials for REST request [/_inference]"
        )


def test_openai_sdk_with_the_encoded_key(service: RunningService, admin: dict[str, Any]) -> None:
    with es(service, admin["encoded"]) as client:
        infer = client.security.create_api_key(
            name="app",
            role_descriptors={
                "app": {"applications": [{"application": "inference-service", "privileges": ["infer"]}]}
            },
        )
    with openai.OpenAI(base_url=service.url + "/v1", api_key=infer["encoded"], max_retries=0) as sdk:
        vectors = sdk.embeddings.create(model="emb", input="hi", encoding_format="float")
        assert vectors.data[0].embedding == [0.5, 0.25, 0.125]
        with pytest.raises(openai.PermissionDeniedError) as refused:
            sdk.models.list()
        assert refused.value.code == "insufficient_permissions"
    with openai.OpenAI(base_url=service.url + "/v1", api_key="not-a-key", max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError) as bad:
            sdk.embeddings.create(model="emb", input="hi")
        assert bad.value.code == "invalid_api_key"
        assert "not-a-key" not in str(bad.value)
    with openai.OpenAI(base_url=service.url + "/v1", api_key=admin["encoded"], max_retries=0) as sdk:
        assert [m.id for m in sdk.models.list() if not m.id.startswith(".")] == ["emb"]
