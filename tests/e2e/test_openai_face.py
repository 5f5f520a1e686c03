"""The OpenAI-compatible face (``/v1``) driven by the real ``openai`` SDK, sync and async:
models and embeddings against a wire-faithful OpenAI embeddings fake."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vectors_for
from tests.support.service import RunningService

_ids = itertools.count()


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def client(service: RunningService) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk:
        yield sdk


def endpoint(
    service: RunningService, upstream: FakeProvider, task_type: str = "text_embedding", **extra: Any
) -> str:
    inference_id = f"v1-{task_type.replace('_', '-')}-{next(_ids)}"
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "sk-v1",
            "model_id": fake.MODEL,
            "url": upstream.url + "/v1/embeddings",
            **extra,
        },
    }
    created = httpx.put(f"{service.url}/_inference/{task_type}/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def test_embeddings_as_base64_by_default_and_as_floats(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = endpoint(service, upstream)
    vectors = [[0.5, -0.25, 0.125], [1.5, 2.25, -3.0]]
    upstream.enqueue(fake.reply(vectors), fake.reply(vectors[:1]))
    answer = client.embeddings.create(model=model, input=["a", "b"])  # the SDK asks for base64
    assert upstream.last_request.json["input"] == ["a", "b"]
    assert [item.embedding for item in answer.data] == vectors  # exact in float32
    assert [item.index for item in answer.data] == [0, 1]
    assert answer.model == model and answer.usage.prompt_tokens == 8
    floats = client.embeddings.create(model=model, input="a b", encoding_format="float")
    raw = floats.model_dump()
    assert raw["data"][0]["embedding"] == vectors[0] and raw["object"] == "list"


def test_embeddings_through_the_async_client(service: RunningService, upstream: FakeProvider) -> None:
    model = endpoint(service, upstream)
    vectors = vectors_for(["x"], dims=4)
    upstream.enqueue(fake.reply(vectors))

    async def call() -> list[float]:
        async with openai.AsyncOpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk:
            answer = await sdk.embeddings.create(model=model, input=["x"])
            return answer.data[0].embedding

    assert asyncio.run(call()) == pytest.approx(vectors[0], rel=1e-6)


def test_models_list_and_retrieve(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = endpoint(service, upstream)
    listed = {m.id: m for m in client.models.list()}
    assert listed[model].owned_by == "openai" and listed[model].object == "model"
    assert listed[model].created > 1_700_000_000
    assert client.models.retrieve(model).id == model
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("no-such-endpoint")
    assert (missing.value.code, missing.value.param) == ("model_not_found", "model")
    assert missing.value.message.endswith(" - The model `no-such-endpoint` does not exist")


def test_errors_are_openai_error_objects(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    embed = endpoint(service, upstream, dimensions=3, upstream_max_retries=0)  # the 429's mapping below
    chat = endpoint(service, upstream, "chat_completion")
    with pytest.raises(openai.NotFoundError) as unknown:
        client.embeddings.create(model="no-such-endpoint", input="a")
    assert (unknown.value.code, unknown.value.type) == ("model_not_found", "invalid_request_error")
    assert unknown.value.body == {
        "message": "The model `no-such-endpoint` does not exist or is not a text_embedding endpoint",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    with pytest.raises(openai.NotFoundError) as other_task:
        client.embeddings.create(model=chat, input="a")
    assert other_task.value.code == "model_not_found" and "text_embedding" in other_task.value.message
    with pytest.raises(openai.BadRequestError) as tokens:
        client.embeddings.create(model=embed, input=[[1, 2, 3]])
    assert tokens.value.param == "input" and "token arrays" in tokens.value.message
    with pytest.raises(openai.BadRequestError) as dims:
        client.embeddings.create(model=embed, input="a", dimensions=256)
    assert dims.value.param == "dimensions"
    with pytest.raises(openai.BadRequestError) as unknown_field:
        client.embeddings.create(model=embed, input="a", extra_body={"nope": 1})
    assert "nope" in unknown_field.value.message and unknown_field.value.param == "$.nope"
    assert upstream.requests == []  # none of these reached the provider
    limited = fake_openai.error_body("Rate limit reached", "requests", "rate_limit_exceeded")
    upstream.enqueue(Reply.json(429, limited))
    with pytest.raises(openai.RateLimitError) as throttled:
        client.embeddings.create(model=embed, input="a")
    assert throttled.value.code == "rate_limit_exceeded"


def test_unknown_paths_and_methods_are_openai_404s(service: RunningService) -> None:
    missing = httpx.post(f"{service.url}/v1/nowhere", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert "Unknown request URL: POST /v1/nowhere" in missing.json()["error"]["message"]
    wrong = httpx.get(f"{service.url}/v1/embeddings")
    assert (
        wrong.status_code == 405
        and "Unknown request URL: GET /v1/embeddings" in wrong.json()["error"]["message"]
    )


def test_the_request_timeout_header_shortens_the_deadline(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = endpoint(service, upstream)
    upstream.enqueue(fake.reply([[0.5]]).replace(headers_delay=2.0))
    with pytest.raises(openai.APIStatusError) as late:
        client.embeddings.create(model=model, input="a", extra_headers={"x-request-timeout": "200ms"})
    assert late.value.status_code == 408
    assert late.value.message.endswith("Request timed out after [200ms]")


def test_rerank_in_the_cohere_shape(service: RunningService, upstream: FakeProvider) -> None:
    from tests.fakes import cohere

    model = f"v1-rerank-{next(_ids)}"
    body = {
        "service": "cohere",
        "service_settings": {
            "api_key": "k",
            "model_id": cohere.RERANK_MODEL,
            "url": upstream.url + "/v2/rerank",
        },
    }
    assert httpx.put(f"{service.url}/_inference/rerank/{model}?validate=false", json=body).status_code == 200
    upstream.enqueue(cohere.rerank_reply([(1, 0.9), (0, 0.2)]))
    answer = httpx.post(
        f"{service.url}/v1/rerank",
        json={
            "model": model,
            "query": "bread",
            "documents": ["a garage", {"text": "a bakery"}],
            "top_n": 1,
            "return_documents": True,
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "model": model,
        "results": [{"index": 1, "relevance_score": 0.9, "document": {"text": "a bakery"}}],
    }
    assert upstream.last_request.json["documents"] == ["a garage", "a bakery"]
    empty = httpx.post(f"{service.url}/v1/rerank", json={"model": model, "query": "", "documents": ["x"]})
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "query"
    embed = endpoint(service, upstream)
    wrong = httpx.post(f"{service.url}/v1/rerank", json={"model": embed, "query": "q", "documents": ["x"]})
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "model_not_found"
