"""mistral text_embedding end to end: the service under hypercorn, a fake Mistral API with its
wire format and error shapes, raw HTTP and the official client. Chat for mistral is tested in
test_openai_compatible.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import mistral
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vector_of, vectors_for
from tests.support.service import RunningService, migrated_service

_ids = itertools.count()
KEY = "mistral-secret-key"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    # one batch at a time, so the fake's queued answers meet the batches in input order
    with migrated_service(tmp_path_factory.mktemp("mistral"), embedding_batch_concurrency=1) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def put(
    svc: RunningService, upstream: FakeProvider, *, validate: bool = False, **settings: Any
) -> httpx.Response:
    body = {
        "service": "mistral",
        "service_settings": {
            "api_key": KEY,
            "model": mistral.MODEL,
            "url": upstream.url + "/v1/embeddings",
            **settings,
        },
    }
    flag = "true" if validate else "false"
    return httpx.put(f"{svc.url}/_inference/text_embedding/mistral-{next(_ids)}?validate={flag}", json=body)


def endpoint(svc: RunningService, upstream: FakeProvider, **settings: Any) -> str:
    created = put(svc, upstream, **settings)
    assert created.status_code == 200, created.text
    assert KEY not in created.text
    return str(created.json()["inference_id"])


def embed(svc: RunningService, inference_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/text_embedding/{inference_id}", json=body, timeout=30)


def test_put_validation_call(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(mistral.reply([[0.5, 0.25, 0.125]]))
    created = put(svc, upstream, validate=True, max_input_tokens=8192)
    assert created.status_code == 200, created.text
    assert created.json()["service_settings"] == {
        "model": mistral.MODEL,
        "url": upstream.url + "/v1/embeddings",
        "max_input_tokens": 8192,
        "dimensions": 3,
        "similarity": "dot_product",
        "rate_limit": {"requests_per_minute": 240},
    }
    probe = upstream.last_request
    assert probe.target == "/v1/embeddings" and probe.headers["authorization"] == f"Bearer {KEY}"
    assert probe.json == {"input": ["how big"], "model": mistral.MODEL, "encoding_format": "float"}


def test_dimensions_are_checked_not_sent(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(mistral.reply([[0.5, 0.25, 0.125]]))
    created = put(svc, upstream, validate=True, dimensions=3)
    assert created.status_code == 200, created.text
    assert "dimensions" not in upstream.last_request.json
    upstream.enqueue(mistral.reply([[0.5, 0.25, 0.125]]))
    refused = put(svc, upstream, validate=True, dimensions=1024)
    assert refused.status_code == 400
    assert "The retrieved embeddings size [3] does not match the size specified in the settings [1024]" in (
        refused.text
    )


def test_vectors_in_input_order(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = ["first", "second", "third"]
    vectors = vectors_for(inputs)
    upstream.enqueue(mistral.reply(vectors))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert response.json() == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert upstream.last_request.json["input"] == inputs


def test_batches_of_96(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = [f"t{i}" for i in range(193)]
    vectors = vectors_for(inputs, dims=2)
    upstream.respond_by(lambda body: mistral.reply([vector_of(text, dims=2) for text in body["input"]]))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    assert sorted(len(r.json["input"]) for r in upstream.requests) == [1, 96, 96]


@pytest.mark.parametrize(
    ("reply", "status", "es_type", "message"),
    [
        (mistral.unauthorized(), 401, "status_exception", "Unauthorized"),
        (mistral.invalid_model("nope"), 400, "invalid_model", "Invalid model: nope"),
        (
            mistral.validation_error(["body", "input"], "Field required"),
            422,
            "invalid_request_error",
            "body.input",
        ),
        (mistral.not_found(), 404, "status_exception", "Not Found"),
        (mistral.rate_limited(), 429, "status_exception", "Requests rate limit exceeded"),
        (
            Reply.fixed(503, b"upstream connect error or disconnect/reset before headers"),
            502,
            "status_exception",
            "upstream connect",
        ),
    ],
)
def test_upstream_errors(
    svc: RunningService, upstream: FakeProvider, reply: Reply, status: int, es_type: str, message: str
) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=0)  # the mapping, not the retries
    upstream.enqueue(reply)
    response = embed(svc, inference_id, {"input": ["a"]})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == es_type
    assert message in error["reason"] and f"[{inference_id}]" in error["reason"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"input": ["a"], "input_type": "classification"},
            "Invalid input_type [classification]. The input_type option is not supported by this service",
        ),
        ({"input": ["a"], "task_settings": {"user": "u"}}, "unknown to the [mistral] service"),
    ],
)
def test_bad_requests_never_reach_the_provider(
    svc: RunningService, upstream: FakeProvider, body: dict[str, Any], reason: str
) -> None:
    inference_id = endpoint(svc, upstream)
    response = embed(svc, inference_id, body)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]["reason"]
    assert upstream.requests == []


def test_model_id_is_not_mistrals_setting(svc: RunningService, upstream: FakeProvider) -> None:
    refused = put(svc, upstream, model=None, model_id=mistral.MODEL)
    assert refused.status_code == 400
    reason = refused.json()["error"]["reason"]
    assert "[service_settings] does not contain the required setting [model]" in reason
    assert "[{model_id=mistral-embed}] unknown to the [mistral] service" in reason


def test_the_official_client(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    client = Elasticsearch(svc.url, request_timeout=30)
    vectors = vectors_for(["a", "b"])
    upstream.enqueue(mistral.reply(vectors))
    result = client.inference.text_embedding(inference_id=inference_id, input=["a", "b"])
    assert result.body == {"text_embedding": [{"embedding": v} for v in vectors]}
    client.close()
