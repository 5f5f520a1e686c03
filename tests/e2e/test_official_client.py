"""The official ``elasticsearch`` Python client drives the service unchanged."""

from __future__ import annotations

import pytest
from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService


@pytest.fixture(scope="module")
def client(service: RunningService) -> Elasticsearch:
    return Elasticsearch(service.url, request_timeout=30)


def test_info(client: Elasticsearch) -> None:
    info = client.info()
    assert info["tagline"] == "You Know, for Search"
    assert info["version"]["number"].startswith("9.")


def test_put_get_update_delete(client: Elasticsearch) -> None:
    created = client.inference.put(
        task_type="chat_completion",
        inference_id="client-chat",
        inference_config={
            "service": "openai",
            "service_settings": {"api_key": "sk-client", "model_id": "gpt-4o-mini"},
            "task_settings": {"user": "a"},
        },
    )
    assert created["inference_id"] == "client-chat"
    assert "api_key" not in created["service_settings"]
    got = client.inference.get(inference_id="client-chat")
    assert got["endpoints"][0]["task_settings"] == {"user": "a"}
    by_type = client.inference.get(task_type="chat_completion")
    assert "client-chat" in [e["inference_id"] for e in by_type["endpoints"]]
    updated = client.inference.update(
        inference_id="client-chat", inference_config={"task_settings": {"user": "b"}}
    )
    assert updated["task_settings"] == {"user": "b"}
    assert client.inference.delete(inference_id="client-chat")["acknowledged"] is True
    with pytest.raises(NotFoundError) as missing:
        client.inference.get(inference_id="client-chat")
    assert missing.value.error == "resource_not_found_exception"


def test_put_existing_is_a_bad_request(client: Elasticsearch) -> None:
    config = {"service": "openai", "service_settings": {"api_key": "k", "model_id": "m"}}
    client.inference.put(task_type="completion", inference_id="client-dup", inference_config=config)
    with pytest.raises(BadRequestError) as duplicate:
        client.inference.put(task_type="completion", inference_id="client-dup", inference_config=config)
    assert duplicate.value.error == "resource_already_exists_exception"
    with pytest.raises(BadRequestError) as invalid:
        client.inference.put(
            task_type="completion",
            inference_id="client-bad",
            inference_config={"service": "openai", "service_settings": {}},
        )
    assert invalid.value.error == "validation_exception"
    assert "[model_id]" in str(invalid.value.info)


def test_streaming_through_perform_request(client: Elasticsearch, upstream: FakeProvider) -> None:
    """No released client has a streaming method; perform_request returns the stream as text."""
    client.inference.put(
        task_type="chat_completion",
        inference_id="client-stream",
        inference_config={
            "service": "openai",
            "service_settings": {
                "api_key": "k",
                "model_id": "m",
                "url": upstream.url + "/v1/chat/completions",
            },
        },
    )
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hi", "!"])))
    response = client.perform_request(
        "POST",
        "/_inference/chat_completion/client-stream/_stream",
        headers={"accept": "text/event-stream", "content-type": "application/json"},
        body={"messages": [{"role": "user", "content": "Hello"}]},
    )
    text = str(response.body)
    assert text.startswith("event: message\n") and text.endswith("data: [DONE]\n\n")
    assert '"content":"Hi"' in text and '"content":"!"' in text
