"""hugging_face text_embedding and rerank end to end: the service under hypercorn, a fake Text
Embeddings Inference server with TEI's own wire formats, raw HTTP and the official client."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import hugging_face as tei
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vector_of, vectors_for
from tests.support.service import RunningService, migrated_service

_ids = itertools.count()
KEY = "hf_secret_token"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    # one batch at a time, so the fake's queued answers meet the batches in input order
    with migrated_service(tmp_path_factory.mktemp("hf"), embedding_batch_concurrency=1) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def put(
    svc: RunningService,
    upstream: FakeProvider,
    task_type: str,
    *,
    validate: bool = False,
    task_settings: dict[str, Any] | None = None,
    **settings: Any,
) -> httpx.Response:
    path = "/embed" if task_type == "text_embedding" else "/rerank"
    body: dict[str, Any] = {
        "service": "hugging_face",
        "service_settings": {"api_key": KEY, "url": upstream.url + path, **settings},
    }
    if task_settings is not None:
        body["task_settings"] = task_settings
    flag = "true" if validate else "false"
    return httpx.put(f"{svc.url}/_inference/{task_type}/hf-{next(_ids)}?validate={flag}", json=body)


def endpoint(svc: RunningService, upstream: FakeProvider, task_type: str, **kwargs: Any) -> str:
    created = put(svc, upstream, task_type, **kwargs)
    assert created.status_code == 200, created.text
    assert KEY not in created.text
    return str(created.json()["inference_id"])


def call(svc: RunningService, task_type: str, inference_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body, timeout=30)


# -- text_embedding ---------------------------------------------------------------------------


def test_put_validation_call_fills_dimensions_and_cosine(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(tei.embeddings_reply([[0.5, 0.25, 0.125, 0.0625]]))
    created = put(svc, upstream, "text_embedding", validate=True)
    assert created.status_code == 200, created.text
    settings = created.json()["service_settings"]
    assert settings == {
        "url": upstream.url + "/embed",
        "dimensions": 4,
        "similarity": "cosine",
        "rate_limit": {"requests_per_minute": 3000},
    }
    probe = upstream.last_request
    assert (probe.method, probe.target) == ("POST", "/embed")
    assert probe.headers["authorization"] == f"Bearer {KEY}"
    assert probe.headers["content-type"] == "application/json"
    assert probe.body == b'{"inputs":["how big"]}'


def test_vectors_in_input_order_in_both_answer_formats(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, "text_embedding", similarity="dot_product")
    inputs = ["first", "second", "third"]
    vectors = vectors_for(inputs)
    upstream.enqueue(tei.embeddings_reply(vectors), Reply.json(200, {"embeddings": vectors}))
    for _ in range(2):
        response = call(svc, "text_embedding", inference_id, {"input": inputs})
        assert response.status_code == 200, response.text
        assert response.json() == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert [r.json for r in upstream.requests] == [{"inputs": inputs}] * 2


def test_batches_of_twenty_in_input_order(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, "text_embedding")
    inputs = [f"text {i}" for i in range(41)]
    vectors = vectors_for(inputs, dims=2)
    upstream.respond_by(
        lambda body: tei.embeddings_reply([vector_of(text, dims=2) for text in body["inputs"]])
    )
    response = call(svc, "text_embedding", inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    assert sorted(r.json["inputs"] for r in upstream.requests) == sorted(
        [inputs[:20], inputs[20:40], inputs[40:]]
    )


@pytest.mark.parametrize(
    ("reply", "status", "es_type", "message"),
    [
        (tei.error_reply("Input validation error: `inputs` cannot be empty", "Empty"), 400, "Empty", "empty"),
        (
            tei.error_reply("batch size 40 > maximum allowed batch size 32", "Validation"),
            422,
            "Validation",
            "32",
        ),
        (tei.error_reply("Model is overloaded", "Overloaded"), 429, "Overloaded", "overloaded"),
        (tei.error_reply("CUDA error", "Backend"), 424, "Backend", "CUDA error"),
        (tei.error_reply("Model is unhealthy", "Unhealthy"), 502, "Unhealthy", "unhealthy"),
        (tei.unauthorized(), 401, "status_exception", "HTTP 401"),
    ],
)
def test_upstream_errors(
    svc: RunningService, upstream: FakeProvider, reply: Reply, status: int, es_type: str, message: str
) -> None:
    inference_id = endpoint(svc, upstream, "text_embedding", upstream_max_retries=0)  # the mapping only
    upstream.enqueue(reply)
    response = call(svc, "text_embedding", inference_id, {"input": ["a"]})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == es_type
    assert message in error["reason"] and f"[{inference_id}]" in error["reason"]


def test_a_failing_validation_call_refuses_the_endpoint(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(tei.unauthorized())
    refused = put(svc, upstream, "text_embedding", validate=True)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["reason"] == (
        "Could not complete inference endpoint creation as validation call to service threw an exception."
    )
    assert error["caused_by"]["reason"].startswith("Received an authentication error status code")


@pytest.mark.parametrize(
    ("body", "es_type", "reason"),
    [
        (
            {"input": ["a"], "input_type": "search"},
            "validation_exception",
            "Invalid input_type [search]. The input_type option is not supported by this service",
        ),
        (
            {"input": ["a"], "task_settings": {"top_n": 1}},
            "status_exception",
            "unknown to the [hugging_face]",
        ),
    ],
)
def test_bad_embedding_requests_never_reach_the_provider(
    svc: RunningService, upstream: FakeProvider, body: dict[str, Any], es_type: str, reason: str
) -> None:
    inference_id = endpoint(svc, upstream, "text_embedding")
    response = call(svc, "text_embedding", inference_id, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == es_type
    assert reason in response.json()["error"]["reason"]
    assert upstream.requests == []


def test_settings_elasticsearch_does_not_have_are_refused(
    svc: RunningService, upstream: FakeProvider
) -> None:
    refused = put(svc, upstream, "text_embedding", model_id="BAAI/bge-small-en-v1.5")
    assert refused.status_code == 400
    assert "[{model_id=BAAI/bge-small-en-v1.5}] unknown to the [hugging_face] service" in refused.text
    no_url = httpx.put(
        f"{svc.url}/_inference/rerank/hf-no-url",
        json={"service": "hugging_face", "service_settings": {"api_key": KEY}},
    )
    assert no_url.status_code == 400
    assert "[service_settings] does not contain the required setting [url]" in no_url.text


# -- rerank -----------------------------------------------------------------------------------

DOCS = ["luke", "leia", "chewy", "r2d2"]
SCORES = [0.2, 0.9, 0.05, 0.6]


def test_put_rerank_runs_the_validation_call(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(tei.scores_for(["how big"], [0.3]))
    created = put(svc, upstream, "rerank", validate=True, task_settings={"top_n": 2})
    assert created.status_code == 200, created.text
    assert created.json()["task_settings"] == {"top_n": 2}
    assert created.json()["service_settings"]["rate_limit"] == {"requests_per_minute": 3000}
    probe = upstream.last_request
    assert probe.target == "/rerank" and probe.headers["authorization"] == f"Bearer {KEY}"
    assert probe.json == {"texts": ["how big"], "query": "test query", "top_n": 2}


def test_rerank_best_first_with_top_n_and_documents(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, "rerank")
    upstream.enqueue(tei.scores_for(DOCS, SCORES, return_text=True))
    body = {"query": "star wars", "input": DOCS, "top_n": 2, "return_documents": True}
    response = call(svc, "rerank", inference_id, body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "rerank": [
            {"index": 1, "relevance_score": 0.9, "text": "leia"},
            {"index": 3, "relevance_score": 0.6, "text": "r2d2"},
        ]
    }
    assert upstream.last_request.json == {
        "texts": DOCS,
        "query": "star wars",
        "return_text": True,
        "top_n": 2,
    }
    upstream.enqueue(tei.scores_for(DOCS, SCORES))
    plain = call(svc, "rerank", inference_id, {"query": "star wars", "input": DOCS})
    assert [d["index"] for d in plain.json()["rerank"]] == [1, 3, 0, 2]
    assert all("text" not in d for d in plain.json()["rerank"])
    assert upstream.last_request.json == {"texts": DOCS, "query": "star wars"}


def test_task_settings_apply_unless_the_request_sets_its_own(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = endpoint(svc, upstream, "rerank", task_settings={"top_n": 1, "return_documents": True})
    upstream.enqueue(tei.scores_for(DOCS, SCORES, return_text=True))
    stored = call(svc, "rerank", inference_id, {"query": "q", "input": DOCS})
    assert stored.json() == {"rerank": [{"index": 1, "relevance_score": 0.9, "text": "leia"}]}
    assert upstream.last_request.json == {"texts": DOCS, "query": "q", "return_text": True, "top_n": 1}
    upstream.enqueue(tei.scores_for(DOCS, SCORES))
    root = call(
        svc, "rerank", inference_id, {"query": "q", "input": DOCS, "top_n": 3, "return_documents": False}
    )
    assert root.json() == {
        "rerank": [
            {"index": 1, "relevance_score": 0.9},
            {"index": 3, "relevance_score": 0.6},
            {"index": 0, "relevance_score": 0.2},
        ]
    }
    assert upstream.last_request.json == {"texts": DOCS, "query": "q", "return_text": False, "top_n": 3}
    upstream.enqueue(tei.scores_for(DOCS, SCORES))
    per_request = {"query": "q", "input": DOCS, "task_settings": {"return_documents": False, "top_n": 2}}
    overridden = call(svc, "rerank", inference_id, per_request)
    assert [d["index"] for d in overridden.json()["rerank"]] == [1, 3]
    assert all("text" not in d for d in overridden.json()["rerank"])


def test_rerank_errors_and_bad_answers(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, "rerank")
    upstream.enqueue(tei.error_reply("batch size 40 > maximum allowed batch size 32", "Validation"))
    failed = call(svc, "rerank", inference_id, {"query": "q", "input": DOCS})
    assert failed.status_code == 422
    assert "batch size 40 > maximum allowed batch size 32" in failed.json()["error"]["reason"]
    upstream.enqueue(tei.rerank_reply([tei.rank(7, 0.5)]))
    out_of_range = call(svc, "rerank", inference_id, {"query": "q", "input": DOCS})
    assert out_of_range.status_code == 502
    assert "index [7]" in out_of_range.json()["error"]["reason"]
    upstream.enqueue(Reply.json(200, {"results": []}))
    malformed = call(svc, "rerank", inference_id, {"query": "q", "input": DOCS})
    assert malformed.status_code == 502 and "malformed rerank response" in malformed.text


def test_bad_rerank_task_settings(svc: RunningService, upstream: FakeProvider) -> None:
    refused = put(svc, upstream, "rerank", task_settings={"top_n": 0})
    assert refused.status_code == 400
    assert "[task_settings] Invalid value [0] for setting [top_n]" in refused.text
    inference_id = endpoint(svc, upstream, "rerank")
    bad = call(
        svc, "rerank", inference_id, {"query": "q", "input": DOCS, "task_settings": {"truncate": True}}
    )
    assert bad.status_code == 400 and "unknown to the [hugging_face] service" in bad.text
    assert upstream.requests == []


def test_the_official_client(svc: RunningService, upstream: FakeProvider) -> None:
    embed_id = endpoint(svc, upstream, "text_embedding")
    rerank_id = endpoint(svc, upstream, "rerank")
    client = Elasticsearch(svc.url, request_timeout=30)
    vectors = vectors_for(["a", "b"])
    upstream.enqueue(tei.embeddings_reply(vectors), tei.scores_for(DOCS, SCORES, return_text=True))
    embedded = client.inference.text_embedding(inference_id=embed_id, input=["a", "b"])
    assert embedded.body == {"text_embedding": [{"embedding": v} for v in vectors]}
    ranked = client.inference.rerank(
        inference_id=rerank_id, query="star wars", input=DOCS, top_n=1, return_documents=True
    )
    assert ranked.body == {"rerank": [{"index": 1, "relevance_score": 0.9, "text": "leia"}]}
    client.close()
