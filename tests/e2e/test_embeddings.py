"""text_embedding end to end: the service under hypercorn, a wire-faithful OpenAI embeddings fake,
raw HTTP and the official ``elasticsearch`` client."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.conftest import make_settings
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vector_of, vectors_for
from tests.support.service import RunningService, run_service

_ids = itertools.count()
MAX_INPUTS = 5000


@pytest.fixture(scope="module")
def svc(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    from inference_service.store.migrate import upgrade

    settings = make_settings(
        tmp_path_factory.mktemp("embed"), database_url, max_inputs_per_request=MAX_INPUTS
    )
    upgrade(settings)
    with run_service(settings) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def put(
    svc: RunningService, upstream: FakeProvider, *, validate: bool = False, **settings: Any
) -> httpx.Response:
    inference_id = f"embed-{next(_ids)}"
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "sk-embed",
            "model_id": fake.MODEL,
            "url": upstream.url + "/v1/embeddings",
            **settings,
        },
    }
    flag = "true" if validate else "false"
    return httpx.put(f"{svc.url}/_inference/text_embedding/{inference_id}?validate={flag}", json=body)


def endpoint(svc: RunningService, upstream: FakeProvider, **settings: Any) -> str:
    created = put(svc, upstream, **settings)
    assert created.status_code == 200, created.text
    return str(created.json()["inference_id"])


def embed(svc: RunningService, inference_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/text_embedding/{inference_id}", json=body, timeout=30)


def test_put_runs_the_validation_call_and_fills_dimensions_and_similarity(
    svc: RunningService, upstream: FakeProvider
) -> None:
    upstream.enqueue(fake.reply([[0.5, 0.25, 0.125, 0.0625]]))
    created = put(svc, upstream, validate=True)
    assert created.status_code == 200, created.text
    settings = created.json()["service_settings"]
    assert settings["dimensions"] == 4 and settings["similarity"] == "dot_product"
    assert "dimensions_set_by_user" not in settings and "api_key" not in settings
    probe = upstream.last_request
    assert probe.path == "/v1/embeddings"
    assert probe.headers["authorization"] == "Bearer sk-embed"
    assert probe.json == {"input": ["how big"], "model": fake.MODEL, "encoding_format": "float"}
    stored = httpx.get(f"{svc.url}/_inference/{created.json()['inference_id']}").json()["endpoints"][0]
    assert stored["service_settings"] == settings


def test_dimensions_the_user_chose_are_sent_and_checked(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(fake.reply([[0.5, 0.25]]))
    created = put(svc, upstream, validate=True, dimensions=2, similarity="cosine")
    assert created.status_code == 200, created.text
    assert created.json()["service_settings"]["similarity"] == "cosine"
    assert upstream.last_request.json["dimensions"] == 2
    upstream.enqueue(fake.reply([[0.5, 0.25, 0.125]]))
    refused = put(svc, upstream, validate=True, dimensions=2)
    assert refused.status_code == 400
    assert refused.json()["error"]["reason"] == (
        f"The retrieved embeddings size [3] does not match the size specified in the settings [2]. "
        f"Please recreate the [embed-{next(_ids) - 1}] configuration with the correct dimensions"
    )


def test_vectors_come_back_in_input_order(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = ["first", "second", "third"]
    vectors = vectors_for(inputs)
    upstream.enqueue(fake.reply(vectors, order=[2, 0, 1]))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    assert response.json() == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert upstream.last_request.json["input"] == inputs
    single = vectors_for(["one"])
    upstream.enqueue(fake.reply(single))
    assert embed(svc, inference_id, {"input": "one"}).json() == {"text_embedding": [{"embedding": single[0]}]}


def test_large_requests_are_split_into_concurrent_batches_and_merged(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = [f"text {i}" for i in range(2049)]
    vectors = vectors_for(inputs, dims=2)
    upstream.respond_by(lambda body: fake.reply([vector_of(text, dims=2) for text in body["input"]]))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    sizes = sorted(len(r.json["input"]) for r in upstream.requests)
    assert sizes == [1, 2048]


def test_a_failing_batch_fails_the_whole_request(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=0)  # a batch's failure, not its retries
    inputs = [f"t{i}" for i in range(4096)]  # two batches of 2048: whichever gets the 429 fails
    limited = fake_openai.error_body("Rate limit reached", "requests", "rate_limit_exceeded")
    upstream.enqueue(fake.reply(vectors_for(inputs[:2048])), Reply.json(429, limited))
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 429
    assert "Rate limit reached" in response.json()["error"]["reason"]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (fake.embeddings([[0.1, 0.2]]), "returned [1] embeddings for [2] inputs"),
        (fake.embeddings([[0.1, 0.2], [0.3]]), "an embedding of [1] values at position [1]"),
        (b'{"data": "nope"}', "malformed embeddings response"),
        (fake.embeddings([[0.1], [0.2]], order=[0, 0]), "do not have the indexes"),
        (
            b'{"data": [{"index": 0, "embedding": [0.1]}, {"index": 1, "embedding": [null]}]}',
            "embedding at index [1] for inference entity id",
        ),
    ],
)
def test_wrong_answers_are_a_502_naming_the_problem(
    svc: RunningService, upstream: FakeProvider, answer: bytes, problem: str
) -> None:
    inference_id = endpoint(svc, upstream)
    upstream.enqueue(Reply.json(200, answer))
    response = embed(svc, inference_id, {"input": ["a", "b"]})
    assert response.status_code == 502, response.text
    assert problem in response.json()["error"]["reason"]


def test_upstream_errors_keep_their_status(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=0)  # the mapping, not the retries
    body = fake_openai.error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key")
    upstream.enqueue(Reply.json(401, body))
    response = embed(svc, inference_id, {"input": ["a"]})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    upstream.enqueue(Reply.json(503, b"overloaded"))
    assert embed(svc, inference_id, {"input": ["a"]}).status_code == 502


@pytest.mark.parametrize(
    ("body", "es_type", "reason"),
    [
        ({}, "action_request_validation_exception", "Field [input] cannot be null"),
        ({"input": []}, "action_request_validation_exception", "Field [input] cannot be an empty array"),
        ({"input": [1, 2]}, "x_content_parse_exception", "Expected `str`"),
        (
            {"input": ["a"], "top_n": 2},
            "action_request_validation_exception",
            "Field [top_n] cannot be specified",
        ),
        (
            {"input": ["a"], "query": "q"},
            "action_request_validation_exception",
            "Field [query] cannot be specified",
        ),
        (
            {"input": ["a"], "input_type": "sideways"},
            "action_request_validation_exception",
            "Unrecognized input_type",
        ),
        (
            {"input": ["a"], "input_type": "internal_ingest"},
            "action_request_validation_exception",
            "Unrecognized input_type [internal_ingest]",
        ),
        (
            {"input": ["a"], "input_type": "ingest"},
            "validation_exception",
            "Invalid input_type [ingest]. The input_type option is not supported by this service",
        ),
        (
            {"input": ["x"] * (MAX_INPUTS + 1)},
            "action_request_validation_exception",
            f"more than the [{MAX_INPUTS}] allowed",
        ),
        (
            {"input": ["a"], "task_settings": {"nope": 1}},
            "status_exception",
            "unknown to the [openai] service",
        ),
    ],
)
def test_bad_requests_never_reach_the_provider(
    svc: RunningService, upstream: FakeProvider, body: dict[str, Any], es_type: str, reason: str
) -> None:
    inference_id = endpoint(svc, upstream)
    response = embed(svc, inference_id, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == es_type
    assert reason in response.json()["error"]["reason"]
    assert upstream.requests == []


def test_task_type_mismatch_and_untyped_url(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    mismatch = httpx.post(f"{svc.url}/_inference/rerank/{inference_id}", json={"input": ["a"], "query": "q"})
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["reason"] == (
        "Incompatible task_type, the requested type [rerank] does not match the model type [text_embedding]"
    )
    vectors = vectors_for(["a"])
    upstream.enqueue(fake.reply(vectors))
    untyped = httpx.post(f"{svc.url}/_inference/{inference_id}", json={"input": "a"})
    assert untyped.json() == {"text_embedding": [{"embedding": vectors[0]}]}
    stream = httpx.post(f"{svc.url}/_inference/{inference_id}/_stream", json={"input": "a"})
    assert stream.status_code == 405


def test_the_official_client(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    client = Elasticsearch(svc.url, request_timeout=30)
    vectors = vectors_for(["a", "b"])
    upstream.enqueue(fake.reply(vectors), fake.reply(vectors))
    typed = client.inference.text_embedding(inference_id=inference_id, input=["a", "b"])
    assert typed.body == {"text_embedding": [{"embedding": v} for v in vectors]}
    generic = client.inference.inference(inference_id=inference_id, input=["a", "b"], timeout="10s")
    assert generic.body == typed.body
    client.close()
