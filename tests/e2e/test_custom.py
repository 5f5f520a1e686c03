"""The ``custom`` service end to end: the service under hypercorn pointed at fake non-OpenAI APIs
(a made-up ``{"vectors": [...]}`` embedding API, Cohere-shaped rerank, Alibaba-shaped sparse
embeddings, an OpenAI-shaped completion), raw HTTP and the official ``elasticsearch`` client."""

from __future__ import annotations

import copy
import itertools
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.conftest import make_settings
from tests.fakes import custom as fake
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vector_of
from tests.support.service import RunningService, run_service

_ids = itertools.count()
SECRET = "sk-custom-123"
EMBED_REQUEST = '{"texts": ${input}, "kind": ${input_type}, "model": ${model}}'
RERANK_REQUEST = (
    '{"model": ${model}, "query": ${query}, "documents": ${input}, "top_n": ${top_n}, '
    '"return_documents": true}'
)
COHERE_PATHS = {
    "relevance_score": "$.results[*].relevance_score",
    "reranked_index": "$.results[*].index",
    "document_text": "$.results[*].document.text",
}
SPARSE_PATHS = {
    "token_path": "$.result.sparse_embeddings[*].embedding[*].tokenId",
    "weight_path": "$.result.sparse_embeddings[*].embedding[*].weight",
}


@pytest.fixture(scope="module")
def svc(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    from inference_service.store.migrate import upgrade

    # One batch at a time: the fake answers in arrival order, so batches must arrive in order.
    settings = make_settings(tmp_path_factory.mktemp("custom"), database_url, embedding_batch_concurrency=1)
    upgrade(settings)
    with run_service(settings) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def embedding_settings(upstream: FakeProvider, **changes: Any) -> dict[str, Any]:
    return {
        "url": upstream.url + "/v1/embed?model=${model}",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "query_parameters": [["region", "eu"], ["tag", "a"], ["tag", "b"]],
        "secret_parameters": {"api_key": SECRET},
        "request": EMBED_REQUEST,
        "response": {"json_parser": {"text_embeddings": "$.vectors[*]"}},
        "input_type": {"translation": {"ingest": "doc", "search": "query"}, "default": "plain"},
        **changes,
    }


def rerank_settings(upstream: FakeProvider) -> dict[str, Any]:
    return {
        "url": upstream.url + "/v2/rerank",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "secret_parameters": {"api_key": SECRET},
        "request": RERANK_REQUEST,
        "response": {"json_parser": COHERE_PATHS},
    }


def put(
    svc: RunningService,
    task_type: str,
    service_settings: dict[str, Any],
    task_settings: dict[str, Any] | None = None,
    *,
    validate: bool = False,
) -> httpx.Response:
    body: dict[str, Any] = {"service": "custom", "service_settings": service_settings}
    if task_settings is not None:
        body["task_settings"] = task_settings
    flag = "true" if validate else "false"
    inference_id = f"custom-{next(_ids)}"
    return httpx.put(
        f"{svc.url}/_inference/{task_type}/{inference_id}?validate={flag}", json=body, timeout=30
    )


def endpoint(svc: RunningService, task_type: str, settings: dict[str, Any], task: Any = None) -> str:
    created = put(svc, task_type, settings, task)
    assert created.status_code == 200, created.text
    return str(created.json()["inference_id"])


def infer(svc: RunningService, task_type: str, inference_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body, timeout=30)


MODEL = {"parameters": {"model": "tiny-embed"}}


def test_put_runs_the_validation_call_through_the_templates(
    svc: RunningService, upstream: FakeProvider
) -> None:
    upstream.enqueue(fake.vectors_reply([[0.5, 0.25, 0.125, 0.0625]]))
    created = put(svc, "text_embedding", embedding_settings(upstream, batch_size=32), MODEL, validate=True)
    assert created.status_code == 200, created.text
    probe = upstream.last_request
    assert probe.method == "POST" and probe.path == "/v1/embed"
    assert parse_qsl(probe.query) == [("model", "tiny-embed"), ("region", "eu"), ("tag", "a"), ("tag", "b")]
    assert probe.headers["authorization"] == f"Bearer {SECRET}"
    assert probe.headers["content-type"] == "application/json"
    assert probe.json == {"texts": ["how big"], "kind": "doc", "model": "tiny-embed"}
    settings = created.json()["service_settings"]
    assert settings["dimensions"] == 4 and settings["similarity"] == "dot_product"
    assert settings["batch_size"] == 32
    assert settings["rate_limit"] == {"requests_per_minute": 10000}
    assert settings["response"] == {
        "json_parser": {"text_embeddings": "$.vectors[*]", "embedding_type": "float"}
    }
    assert "secret_parameters" not in settings and "dimensions_set_by_user" not in settings
    stored = httpx.get(f"{svc.url}/_inference/{created.json()['inference_id']}").json()["endpoints"][0]
    assert stored["service_settings"] == settings
    assert stored["task_settings"] == MODEL
    assert SECRET not in json.dumps(stored)


def test_vectors_in_input_order_with_input_types_and_request_parameters(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = endpoint(svc, "text_embedding", embedding_settings(upstream), MODEL)
    vectors = fake.vectors_for(3)
    upstream.enqueue(
        fake.vectors_reply(vectors), fake.vectors_reply(vectors[:1]), fake.vectors_reply(vectors[:1])
    )
    response = infer(svc, "text_embedding", inference_id, {"input": ["a", "b", "c"], "input_type": "search"})
    assert response.status_code == 200, response.text
    assert response.json() == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert upstream.last_request.json == {"texts": ["a", "b", "c"], "kind": "query", "model": "tiny-embed"}
    other = infer(
        svc,
        "text_embedding",
        inference_id,
        {
            "input": "d",
            "input_type": "classification",
            "task_settings": {"parameters": {"model": "big-embed"}},
        },
    )
    assert other.status_code == 200, other.text
    assert upstream.last_request.json == {"texts": ["d"], "kind": "plain", "model": "big-embed"}
    assert ("model", "big-embed") in parse_qsl(upstream.last_request.query)
    assert infer(svc, "text_embedding", inference_id, {"input": "e"}).status_code == 200
    assert (
        upstream.last_request.json["kind"] == "plain" and upstream.last_request.json["model"] == "tiny-embed"
    )


def test_inputs_are_batched_by_batch_size(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, "text_embedding", embedding_settings(upstream, batch_size=2), MODEL)
    inputs = [f"text {i}" for i in range(5)]
    vectors = fake.vectors_for(5, dims=2)
    upstream.respond_by(lambda body: fake.vectors_reply([vector_of(text, dims=2) for text in body["texts"]]))
    response = infer(svc, "text_embedding", inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    assert sorted(r.json["texts"] for r in upstream.requests) == [inputs[0:2], inputs[2:4], inputs[4:]]


def test_byte_vectors(svc: RunningService, upstream: FakeProvider) -> None:
    parser = {"json_parser": {"text_embeddings": "$.vectors[*]", "embedding_type": "byte"}}
    inference_id = endpoint(svc, "text_embedding", embedding_settings(upstream, response=parser), MODEL)
    upstream.enqueue(fake.vectors_reply([[12, -7, 101]]))
    response = infer(svc, "text_embedding", inference_id, {"input": "a"})
    assert response.json() == {"text_embedding_bytes": [{"embedding": [12, -7, 101]}]}


def test_sparse_embeddings_keep_one_token_list_per_input(svc: RunningService, upstream: FakeProvider) -> None:
    settings = {
        "url": upstream.url + "/sparse",
        "secret_parameters": {"api_key": SECRET},
        "headers": {"X-Api-Key": "${api_key}"},
        "request": '{"input": {"texts": ${input}}, "parameters": {"output_type": "sparse"}}',
        "response": {"json_parser": SPARSE_PATHS},
    }
    inference_id = endpoint(svc, "sparse_embedding", settings)
    inputs = [f"t{i}" for i in range(12)]  # default batch_size 10: two calls
    tokens = [[(i, 0.5), (100 + i, 0.25)] if i != 3 else [] for i in range(12)]
    upstream.enqueue(fake.sparse_reply(tokens[:10]), fake.sparse_reply(tokens[10:]))
    response = infer(svc, "sparse_embedding", inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    embeddings = response.json()["sparse_embedding"]
    assert embeddings[0] == {"is_truncated": False, "embedding": {"0": 0.5, "100": 0.25}}
    assert embeddings[3]["embedding"] == {} and embeddings[11]["embedding"] == {"11": 0.5, "111": 0.25}
    assert [len(r.json["input"]["texts"]) for r in upstream.requests] == [10, 2]
    assert upstream.last_request.headers["x-api-key"] == SECRET


def test_rerank_in_cohere_shape(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(fake.cohere_rerank_reply([(0, 0.5, "how big")]))
    created = put(
        svc,
        "rerank",
        rerank_settings(upstream),
        {"parameters": {"model": "rerank-v3.5", "top_n": 10}},
        validate=True,
    )
    assert created.status_code == 200, created.text
    assert upstream.last_request.json == {
        "model": "rerank-v3.5",
        "query": "test query",
        "documents": ["how big"],
        "top_n": 10,
        "return_documents": True,
    }
    inference_id = created.json()["inference_id"]
    documents = ["Carson City is in Nevada.", "Paris is in France.", "Washington, D.C. is the US capital."]
    ranked = [(2, 0.98, documents[2]), (0, 0.1, documents[0]), (1, 0.01, documents[1])]
    upstream.enqueue(fake.cohere_rerank_reply(ranked), fake.cohere_rerank_reply(ranked))
    body = {"query": "What is the capital of the US?", "input": documents, "top_n": 2}
    response = infer(svc, "rerank", inference_id, body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "rerank": [
            {"index": 2, "relevance_score": 0.98, "text": documents[2]},
            {"index": 0, "relevance_score": 0.1, "text": documents[0]},
        ]
    }
    assert upstream.last_request.json["top_n"] == 2
    assert upstream.last_request.json["query"] == "What is the capital of the US?"
    hidden = infer(svc, "rerank", inference_id, {**body, "return_documents": False}).json()["rerank"]
    assert hidden == [{"index": 2, "relevance_score": 0.98}, {"index": 0, "relevance_score": 0.1}]


def test_completion_is_one_upstream_call_per_input(svc: RunningService, upstream: FakeProvider) -> None:
    settings = {
        "url": upstream.url + "/v1/chat/completions",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "secret_parameters": {"api_key": SECRET},
        "request": '{"model": ${model}, "messages": [{"role": "user", "content": ${input}}]}',
        "response": {"json_parser": {"completion_result": "$.choices[*].message.content"}},
    }
    inference_id = endpoint(svc, "completion", settings, {"parameters": {"model": "gpt-4o-mini"}})
    upstream.enqueue(fake_openai.completion_reply("Hello there, how may I assist you today?"))
    response = infer(svc, "completion", inference_id, {"input": 'Say "hello"'})
    assert response.status_code == 200, response.text
    assert response.json() == {"completion": [{"result": "Hello there, how may I assist you today?"}]}
    assert upstream.last_request.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": 'Say "hello"'}],
    }
    upstream.enqueue(fake_openai.completion_reply("streamed whole"))
    stream = httpx.post(f"{svc.url}/_inference/completion/{inference_id}/_stream", json={"input": "hi"})
    assert stream.status_code == 200
    assert '{"completion":[{"delta":"streamed whole"}]}' in stream.text
    chat = httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream",
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.status_code == 400


def test_upstream_errors_pass_through(svc: RunningService, upstream: FakeProvider) -> None:
    settings = {**rerank_settings(upstream), "upstream_max_retries": 0}  # the mapping, not the retries
    inference_id = endpoint(svc, "rerank", settings, {"parameters": {"model": "m", "top_n": 3}})
    upstream.enqueue(fake.cohere_error(401, "invalid api token"))
    response = infer(svc, "rerank", inference_id, {"query": "q", "input": ["a"]})
    assert response.status_code == 401
    assert response.json()["error"]["reason"] == (
        f"Received an authentication error status code for request from inference entity id [{inference_id}] "
        'status [401]. Error message: [{"message":"invalid api token"}]'
    )
    upstream.enqueue(Reply.json(503, b"overloaded"))
    failed = infer(svc, "rerank", inference_id, {"query": "q", "input": ["a"]})
    assert failed.status_code == 502
    assert "status [503]. Error message: [overloaded]" in failed.json()["error"]["reason"]


def test_transport_errors_name_the_url_template_not_the_secret(svc: RunningService) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = {
        "url": f"http://127.0.0.1:{port}/embed?key=${{api_key}}",
        "secret_parameters": {"api_key": SECRET},
        "request": "${input}",
        "response": {"json_parser": {"text_embeddings": "$[*]"}},
    }
    inference_id = endpoint(svc, "text_embedding", settings)
    response = infer(svc, "text_embedding", inference_id, {"input": "a"})
    assert response.status_code == 502
    reason = response.json()["error"]["reason"]
    assert "/embed?key=${api_key}" in reason and SECRET not in reason


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b'{"vector": [[1]]}', "Unable to find field ['vectors'] of path [$.vectors[*]]"),
        (b'{"vectors": [[1, "x"]]}', "text embedding entry [0]: expected a number, found a string"),
        (b"<html>oops</html>", "is not JSON"),
    ],
)
def test_answers_that_do_not_fit_the_paths_are_a_502(
    svc: RunningService, upstream: FakeProvider, answer: bytes, problem: str
) -> None:
    inference_id = endpoint(svc, "text_embedding", embedding_settings(upstream), MODEL)
    upstream.enqueue(Reply.json(200, answer))
    response = infer(svc, "text_embedding", inference_id, {"input": "a"})
    assert response.status_code == 502, response.text
    assert problem in response.json()["error"]["reason"]


def test_bad_requests_never_reach_the_api(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, "text_embedding", embedding_settings(upstream), MODEL)
    shadow = infer(
        svc,
        "text_embedding",
        inference_id,
        {"input": "a", "task_settings": {"parameters": {"api_key": "echo"}}},
    )
    assert shadow.status_code == 400
    assert shadow.json()["error"]["type"] == "validation_exception"
    assert "[api_key]" in shadow.json()["error"]["reason"] and "echo" not in shadow.json()["error"]["reason"]
    nested = infer(
        svc, "text_embedding", inference_id, {"input": "a", "task_settings": {"parameters": {"x": {}}}}
    )
    assert nested.status_code == 400
    unknown = infer(svc, "text_embedding", inference_id, {"input": "a", "task_settings": {"model": "m"}})
    assert unknown.status_code == 400
    assert upstream.requests == []


def test_put_refusals_use_elasticsearchs_messages(svc: RunningService, upstream: FakeProvider) -> None:
    placeholder = put(svc, "text_embedding", embedding_settings(upstream))  # no ${model} parameter
    assert placeholder.status_code == 400
    assert placeholder.json()["error"]["reason"] == (
        "Validation Failed: 1: Failed to validate model configuration: Found placeholder [${model}] in "
        "field [url] after replacement call, please check that all templates have a corresponding field "
        "definition.;"
    )
    translation = {"translation": {"sideways": "x"}}
    bad_key = put(svc, "text_embedding", embedding_settings(upstream, input_type=translation), MODEL)
    assert bad_key.json()["error"]["reason"] == (
        "Validation Failed: 1: Invalid input type translation for key: [sideways], is not a valid value. "
        "Must be one of [ingest, search, classification, clustering];"
    )
    shadow = put(
        svc, "text_embedding", embedding_settings(upstream), {"parameters": {"api_key": "x", "model": "m"}}
    )
    assert shadow.status_code == 400 and "[api_key]" in shadow.json()["error"]["reason"]
    scheme = put(svc, "text_embedding", embedding_settings(upstream, url="file:///etc/passwd"), MODEL)
    assert "Invalid url [file:///etc/passwd] received for field [url]" in scheme.json()["error"]["reason"]
    assert upstream.requests == []


def test_update_replaces_secrets_and_merges_parameters(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, "text_embedding", embedding_settings(upstream), MODEL)
    updated = httpx.put(
        f"{svc.url}/_inference/text_embedding/{inference_id}/_update",
        json={"service_settings": {"secret_parameters": {"api_key": "sk-rotated"}}},
    )
    assert updated.status_code == 200, updated.text
    assert "secret_parameters" not in updated.json()["service_settings"]
    upstream.enqueue(fake.vectors_reply([[1.0]]))
    assert infer(svc, "text_embedding", inference_id, {"input": "a"}).status_code == 200
    assert upstream.last_request.headers["authorization"] == "Bearer sk-rotated"


def test_the_official_client(svc: RunningService, upstream: FakeProvider) -> None:
    client = Elasticsearch(svc.url, request_timeout=30)
    created = client.inference.put_custom(
        task_type="text_embedding",
        custom_inference_id=f"custom-client-{next(_ids)}",
        service="custom",
        service_settings=embedding_settings(upstream),
        task_settings=copy.deepcopy(MODEL),
    )
    inference_id = created.body["inference_id"]
    vectors = fake.vectors_for(2)
    upstream.enqueue(fake.vectors_reply(vectors))
    typed = client.inference.text_embedding(inference_id=inference_id, input=["a", "b"], input_type="ingest")
    assert typed.body == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert upstream.last_request.json["kind"] == "doc"
    rerank_id = endpoint(svc, "rerank", rerank_settings(upstream), {"parameters": {"model": "m", "top_n": 5}})
    upstream.enqueue(fake.cohere_rerank_reply([(1, 0.9, "b"), (0, 0.2, "a")]))
    reranked = client.inference.rerank(inference_id=rerank_id, query="q", input=["a", "b"])
    assert reranked.body == {
        "rerank": [
            {"index": 1, "relevance_score": 0.9, "text": "b"},
            {"index": 0, "relevance_score": 0.2, "text": "a"},
        ]
    }
    sparse_settings = {
        "url": upstream.url + "/sparse",
        "secret_parameters": {},
        "request": '{"texts": ${input}}',
        "response": {"json_parser": SPARSE_PATHS},
    }
    sparse_id = endpoint(svc, "sparse_embedding", sparse_settings)
    upstream.enqueue(fake.sparse_reply([[(6, 0.101)]]))
    sparse = client.inference.sparse_embedding(inference_id=sparse_id, input="harbor")
    assert sparse.body == {"sparse_embedding": [{"is_truncated": False, "embedding": {"6": 0.101}}]}
    client.close()
