"""azureopenai text_embedding end to end: the service under hypercorn, a fake Azure OpenAI
deployment (OpenAI's Embeddings format, Azure's URL, auth and error bodies), raw HTTP and the
official client. Chat for azureopenai is tested in test_openai_compatible.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import azureopenai as azure
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vector_of, vectors_for
from tests.support.service import RunningService, migrated_service

_ids = itertools.count()
KEY = "azure-secret-key"
TARGET = "/openai/deployments/embed-prod/embeddings?api-version=2024-10-21"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    # one batch at a time, so the fake's queued answers meet the batches in input order
    with migrated_service(tmp_path_factory.mktemp("azure"), embedding_batch_concurrency=1) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def put(
    svc: RunningService,
    upstream: FakeProvider,
    *,
    validate: bool = False,
    secrets: dict[str, str] | None = None,
    task_settings: dict[str, Any] | None = None,
    **settings: Any,
) -> httpx.Response:
    body: dict[str, Any] = {
        "service": "azureopenai",
        "service_settings": {
            **(secrets if secrets is not None else {"api_key": KEY}),
            "resource_name": "my-resource",
            "deployment_id": "embed-prod",
            "api_version": "2024-10-21",
            "url": upstream.url,
            **settings,
        },
    }
    if task_settings is not None:
        body["task_settings"] = task_settings
    flag = "true" if validate else "false"
    return httpx.put(f"{svc.url}/_inference/text_embedding/azure-{next(_ids)}?validate={flag}", json=body)


def endpoint(svc: RunningService, upstream: FakeProvider, **kwargs: Any) -> str:
    created = put(svc, upstream, **kwargs)
    assert created.status_code == 200, created.text
    assert KEY not in created.text
    return str(created.json()["inference_id"])


def embed(svc: RunningService, inference_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/text_embedding/{inference_id}", json=body, timeout=30)


def test_put_validation_call(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(azure.reply([[0.5, 0.25, 0.125, 0.0625]]))
    created = put(svc, upstream, validate=True, task_settings={"user": "u-1"})
    assert created.status_code == 200, created.text
    assert created.json()["service_settings"] == {
        "resource_name": "my-resource",
        "deployment_id": "embed-prod",
        "api_version": "2024-10-21",
        "url": upstream.url,
        "dimensions": 4,
        "similarity": "dot_product",
        "rate_limit": {"requests_per_minute": 1440},
    }
    probe = upstream.last_request
    assert probe.target == TARGET
    assert probe.headers["api-key"] == KEY and "authorization" not in probe.headers
    assert probe.json == {"input": ["how big"], "encoding_format": "float", "user": "u-1"}


def test_entra_id_and_dimensions_the_user_chose(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(azure.reply([[0.5, 0.25]]))
    created = put(svc, upstream, validate=True, secrets={"entra_id": "entra-token"}, dimensions=2)
    assert created.status_code == 200, created.text
    probe = upstream.last_request
    assert probe.headers["authorization"] == "Bearer entra-token" and "api-key" not in probe.headers
    assert probe.json == {"input": ["how big"], "encoding_format": "float", "dimensions": 2}
    assert "entra-token" not in created.text


def test_vectors_in_input_order_and_extra_headers(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, task_settings={"headers": {"x-team": "search"}})
    inputs = ["first", "second", "third"]
    vectors = vectors_for(inputs)
    upstream.enqueue(azure.reply(vectors, order=[1, 2, 0]))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert response.json() == {"text_embedding": [{"embedding": v} for v in vectors]}
    sent = upstream.last_request
    assert sent.json == {"input": inputs, "encoding_format": "float"}
    assert sent.headers["x-team"] == "search" and sent.headers["api-key"] == KEY


def test_large_requests_are_split_in_batches_of_2048(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = [f"t{i}" for i in range(2049)]
    vectors = vectors_for(inputs, dims=2)
    upstream.respond_by(lambda body: azure.reply([vector_of(text, dims=2) for text in body["input"]]))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    assert sorted(len(r.json["input"]) for r in upstream.requests) == [1, 2048]


@pytest.mark.parametrize(
    ("reply", "status", "reason"),
    [
        (azure.unauthorized(), 401, "Received an authentication error status code"),
        (azure.deployment_not_found(), 404, "Resource not found at [{url}" + TARGET + "]"),
        (azure.error_reply(429, "429", "Requests have exceeded call rate limit"), 429, "exceeded call rate"),
        (
            azure.error_reply(500, "InternalServerError", "Backend returned unexpected response"),
            502,
            "Backend",
        ),
    ],
)
def test_upstream_errors(
    svc: RunningService, upstream: FakeProvider, reply: Reply, status: int, reason: str
) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=0)  # the mapping, not the retries
    upstream.enqueue(reply)
    response = embed(svc, inference_id, {"input": ["a"]})
    assert response.status_code == status, response.text
    assert reason.format(url=upstream.url) in response.json()["error"]["reason"]
    assert KEY not in response.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"input": ["a"], "input_type": "ingest"},
            "Invalid input_type [ingest]. The input_type option is not supported by this service",
        ),
        ({"input": ["a"], "task_settings": {"dimensions": 3}}, "unknown to the [azureopenai] service"),
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


def test_settings_are_validated(svc: RunningService, upstream: FakeProvider) -> None:
    refused = put(svc, upstream, secrets={"api_key": KEY, "entra_id": "x"}, deployment_id=None)
    assert refused.status_code == 400
    reason = refused.json()["error"]["reason"]
    assert "[service_settings] does not contain the required setting [deployment_id]" in reason
    assert "exactly one of [api_key] or [entra_id]" in reason
    assert KEY not in refused.text


def test_the_official_client(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    client = Elasticsearch(svc.url, request_timeout=30)
    vectors = vectors_for(["a", "b"])
    upstream.enqueue(azure.reply(vectors))
    result = client.inference.text_embedding(inference_id=inference_id, input=["a", "b"])
    assert result.body == {"text_embedding": [{"embedding": v} for v in vectors]}
    client.close()
