"""cohere, jinaai and voyageai end to end: the service under hypercorn against fakes of their APIs
(the ``url`` setting points each endpoint at the fake), raw HTTP as Elasticsearch's clients
send it. What each upstream received is checked field by field, and so is the answer."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.fakes import cohere, jinaai, voyageai
from tests.fakes.server import FakeProvider
from tests.fakes.vectors import vector, vector_of
from tests.support.service import RunningService, run_service

_ids = itertools.count()
REQUEST_SOURCE = "unspecified:elasticsearch"


@pytest.fixture(scope="module")
def svc(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    from inference_service.store.migrate import upgrade

    settings = make_settings(tmp_path_factory.mktemp("retrieval"), database_url)
    upgrade(settings)
    with run_service(settings) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def put(
    svc: RunningService,
    task_type: str,
    service: str,
    service_settings: dict[str, Any],
    task_settings: dict[str, Any] | None = None,
    *,
    validate: bool = True,
) -> httpx.Response:
    body: dict[str, Any] = {"service": service, "service_settings": {"api_key": "key-1", **service_settings}}
    if task_settings is not None:
        body["task_settings"] = task_settings
    flag = "true" if validate else "false"
    inference_id = f"{service}-{next(_ids)}"
    return httpx.put(
        f"{svc.url}/_inference/{task_type}/{inference_id}?validate={flag}", json=body, timeout=30
    )


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    assert "api_key" not in info["service_settings"]
    return info


def infer(svc: RunningService, task_type: str, inference_id: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body, timeout=30)


def assert_headers(upstream: FakeProvider) -> None:
    headers = upstream.last_request.headers
    assert headers["authorization"] == "Bearer key-1"
    assert headers["request-source"] == REQUEST_SOURCE
    assert headers["content-type"] == "application/json"


# -- cohere ----------------------------------------------------------------------------------


def cohere_embedding(
    svc: RunningService, upstream: FakeProvider, reply: Any, **settings: Any
) -> dict[str, Any]:
    upstream.enqueue(reply)
    service_settings = {"model_id": cohere.EMBED_MODEL, "url": upstream.url + "/v2/embed", **settings}
    return created(put(svc, "text_embedding", "cohere", service_settings))


def test_cohere_put_makes_the_v2_embed_call_and_fills_dimensions(
    svc: RunningService, upstream: FakeProvider
) -> None:
    info = cohere_embedding(svc, upstream, cohere.embed_reply([[0.5, 0.25, 0.125]]))
    assert info["service_settings"] == {
        "model_id": cohere.EMBED_MODEL,
        "url": upstream.url + "/v2/embed",
        "rate_limit": {"requests_per_minute": 10000},
        "dimensions": 3,
        "similarity": "dot_product",
    }
    probe = upstream.last_request
    assert probe.path == "/v2/embed"
    assert_headers(upstream)
    assert probe.json == {
        "texts": ["how big"],
        "model": cohere.EMBED_MODEL,
        "input_type": "search_document",
        "embedding_types": ["float"],
    }


@pytest.mark.parametrize(
    ("embedding_type", "wire", "stored", "vector", "dims", "key"),
    [
        ("int8", "int8", "byte", [12, -7, 101], 3, "text_embedding_bytes"),
        ("byte", "int8", "byte", [12, -7, 101], 3, "text_embedding_bytes"),
        ("binary", "binary", "bit", [-86, 15], 16, "text_embedding_bits"),
        ("bit", "binary", "bit", [-86, 15], 16, "text_embedding_bits"),
    ],
)
def test_cohere_byte_and_bit_vectors(
    svc: RunningService,
    upstream: FakeProvider,
    embedding_type: str,
    wire: str,
    stored: str,
    vector: list[int],
    dims: int,
    key: str,
) -> None:
    reply = cohere.embed_reply([vector], embedding_type=wire)
    info = cohere_embedding(svc, upstream, reply, embedding_type=embedding_type)
    assert upstream.last_request.json["embedding_types"] == [wire]
    settings = info["service_settings"]
    assert (settings["embedding_type"], settings["dimensions"]) == (stored, dims)
    upstream.enqueue(cohere.embed_reply([vector, vector], embedding_type=wire))
    response = infer(svc, "text_embedding", info["inference_id"], {"input": ["a", "b"]})
    assert response.status_code == 200, response.text
    assert response.json() == {key: [{"embedding": vector}, {"embedding": vector}]}


def test_cohere_input_type_from_the_request_else_the_task_settings(
    svc: RunningService, upstream: FakeProvider
) -> None:
    upstream.enqueue(cohere.embed_reply([[0.5]]))
    settings = {"model_id": cohere.EMBED_MODEL, "url": upstream.url + "/v2/embed"}
    info = created(
        put(svc, "text_embedding", "cohere", settings, {"input_type": "clustering", "truncate": "END"})
    )
    assert info["task_settings"] == {"input_type": "clustering", "truncate": "END"}
    assert upstream.last_request.json["input_type"] == "search_document"  # the probe's own
    inference_id = info["inference_id"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"input": ["a"]}, "clustering"),
        ({"input": ["a"], "input_type": "search"}, "search_query"),
        ({"input": ["a"], "input_type": "Classification "}, "classification"),
        ({"input": ["a"], "task_settings": {"input_type": "ingest"}}, "search_document"),
    ]
    for body, sent in cases:
        upstream.enqueue(cohere.embed_reply([[0.5]]))
        assert infer(svc, "text_embedding", inference_id, body).status_code == 200
        assert upstream.last_request.json["input_type"] == sent
        assert upstream.last_request.json["truncate"] == "END"


def test_cohere_embeds_at_most_96_texts_per_call(svc: RunningService, upstream: FakeProvider) -> None:
    info = cohere_embedding(svc, upstream, cohere.embed_reply([[0.5, 0.5]]))
    inputs = [f"t{i}" for i in range(97)]
    vectors = [vector(i, dims=2) for i in range(97)]
    upstream.respond_by(lambda body: cohere.embed_reply([vector_of(text, dims=2) for text in body["texts"]]))
    response = infer(svc, "text_embedding", info["inference_id"], {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    assert sorted(len(r.json["texts"]) for r in upstream.requests[1:]) == [1, 96]


def test_cohere_rerank(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(cohere.rerank_reply([(0, 0.4)]))
    settings = {"model_id": cohere.RERANK_MODEL, "url": upstream.url + "/v2/rerank"}
    info = created(put(svc, "rerank", "cohere", settings, {"top_n": 2, "max_chunks_per_doc": 4}))
    assert info["service_settings"]["rate_limit"] == {"requests_per_minute": 10000}
    assert "chunking_settings" not in info
    assert upstream.last_request.path == "/v2/rerank"
    assert_headers(upstream)
    assert upstream.last_request.json == {
        "model": cohere.RERANK_MODEL,
        "query": "test query",
        "documents": ["how big"],
        "top_n": 2,
        "max_chunks_per_doc": 4,
    }
    docs = ["luke", "leia", "han"]
    upstream.enqueue(cohere.rerank_reply([(1, 0.93), (0, 0.41)], docs))
    response = infer(
        svc, "rerank", info["inference_id"], {"query": "princess", "input": docs, "return_documents": True}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "rerank": [
            {"index": 1, "relevance_score": 0.93, "text": "leia"},
            {"index": 0, "relevance_score": 0.41, "text": "luke"},
        ]
    }
    assert upstream.last_request.json == {
        "model": cohere.RERANK_MODEL,
        "query": "princess",
        "documents": docs,
        "return_documents": True,
        "top_n": 2,
        "max_chunks_per_doc": 4,
    }
    upstream.enqueue(cohere.rerank_reply([(2, 0.7)]))
    top1 = infer(svc, "rerank", info["inference_id"], {"query": "q", "input": docs, "top_n": 1})
    assert top1.json() == {"rerank": [{"index": 2, "relevance_score": 0.7}]}
    assert upstream.last_request.json["top_n"] == 1


def test_cohere_errors_keep_the_status_and_message(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(cohere.error_reply(401, "invalid api token"))
    refused = put(svc, "text_embedding", "cohere", {"model_id": "m", "url": upstream.url + "/v2/embed"})
    assert refused.status_code == 400
    cause = refused.json()["error"]["caused_by"]
    assert cause["reason"].endswith("status [401]. Error message: [invalid api token]")
    info = cohere_embedding(svc, upstream, cohere.embed_reply([[0.5]]))
    upstream.enqueue(cohere.error_reply(400, "invalid request: total number of texts must be at most 96"))
    response = infer(svc, "text_embedding", info["inference_id"], {"input": ["a"]})
    assert response.status_code == 400
    assert response.json()["error"]["reason"] == (
        f"Received a bad request status code for request from inference entity id [{info['inference_id']}] "
        "status [400]. Error message: [invalid request: total number of texts must be at most 96]"
    )
    upstream.enqueue(cohere.error_reply(500, "internal server error"))
    assert infer(svc, "text_embedding", info["inference_id"], {"input": ["a"]}).status_code == 502


def test_cohere_settings_rules(svc: RunningService) -> None:
    legacy = created(put(svc, "text_embedding", "cohere", {"model": "embed-v4.0"}, validate=False))
    assert (
        legacy["service_settings"]["model_id"] == "embed-v4.0" and "model" not in legacy["service_settings"]
    )
    missing = put(svc, "rerank", "cohere", {}, {"top_n": 0}, validate=False)
    assert missing.status_code == 400
    reason = missing.json()["error"]["reason"]
    assert "The [service_settings.model_id] field is required for the Cohere V2 API." in reason
    assert "[task_settings] Invalid value [0] for setting [top_n]" in reason
    unsupported = put(svc, "completion", "cohere", {"model_id": "command-r"}, validate=False)
    assert (
        unsupported.json()["error"]["reason"]
        == "The [cohere] service does not support task type [completion]"
    )


# -- jinaai ----------------------------------------------------------------------------------


def test_jinaai_put_fills_dimensions_and_dot_product(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(jinaai.embed_reply([[0.5, 0.25]]))
    settings = {"model_id": jinaai.EMBED_MODEL, "url": upstream.url + "/v1/embeddings"}
    info = created(put(svc, "text_embedding", "jinaai", settings, {"late_chunking": True}))
    assert info["service_settings"] == {
        **settings,
        "rate_limit": {"requests_per_minute": 2000},
        "dimensions": 2,
        "similarity": "dot_product",
    }
    assert upstream.last_request.path == "/v1/embeddings"
    assert_headers(upstream)
    assert upstream.last_request.json == {
        "input": ["how big"],
        "model": jinaai.EMBED_MODEL,
        "embedding_type": "float",
        "task": "retrieval.passage",
        "late_chunking": True,
    }
    upstream.enqueue(jinaai.embed_reply([[0.5, 0.25]]))
    body = {"input": "a", "input_type": "clustering"}
    assert infer(svc, "text_embedding", info["inference_id"], body).json() == {
        "text_embedding": [{"embedding": [0.5, 0.25]}]
    }
    assert upstream.last_request.json["task"] == "separation"


@pytest.mark.parametrize("embedding_type", ["bit", "binary"])
def test_jinaai_bit_vectors_default_to_l2_norm(
    svc: RunningService, upstream: FakeProvider, embedding_type: str
) -> None:
    upstream.enqueue(jinaai.embed_reply([[-86, 15]]))
    settings = {"model_id": jinaai.EMBED_MODEL, "url": upstream.url + "/v1/embeddings"}
    info = created(put(svc, "text_embedding", "jinaai", {**settings, "embedding_type": embedding_type}))
    assert upstream.last_request.json["embedding_type"] == "binary"
    stored = info["service_settings"]
    assert (stored["embedding_type"], stored["dimensions"], stored["similarity"]) == (
        embedding_type,
        16,
        "l2_norm",
    )
    upstream.enqueue(jinaai.embed_reply([[1, 2], [-3, 4]]))
    response = infer(svc, "text_embedding", info["inference_id"], {"input": ["a", "b"]})
    assert response.json() == {"text_embedding_bits": [{"embedding": [1, 2]}, {"embedding": [-3, 4]}]}
    chosen = created(
        put(svc, "text_embedding", "jinaai", {**settings, "similarity": "cosine"}, validate=False)
    )
    assert chosen["service_settings"]["similarity"] == "cosine"


def test_jinaai_dimensions_the_user_chose_are_sent(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(jinaai.embed_reply([[0.5, 0.25]]))
    settings = {"model_id": jinaai.EMBED_MODEL, "url": upstream.url + "/v1/embeddings", "dimensions": 2}
    created(put(svc, "text_embedding", "jinaai", settings))
    assert upstream.last_request.json["dimensions"] == 2


def test_jinaai_rerank_and_errors(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(jinaai.rerank_reply([(0, 0.3)]))
    settings = {"model_id": jinaai.RERANK_MODEL, "url": upstream.url + "/v1/rerank"}
    info = created(put(svc, "rerank", "jinaai", settings, {"return_documents": True}))
    assert upstream.last_request.json == {
        "model": jinaai.RERANK_MODEL,
        "query": "test query",
        "documents": ["how big"],
        "return_documents": True,
    }
    docs = ["Carson City", "Saipan", "Washington, D.C."]
    upstream.enqueue(jinaai.rerank_reply([(0, 0.1), (2, 0.98)], docs))
    response = infer(svc, "rerank", info["inference_id"], {"query": "capital", "input": docs, "top_n": 2})
    assert response.json() == {
        "rerank": [
            {"index": 2, "relevance_score": 0.98, "text": "Washington, D.C."},
            {"index": 0, "relevance_score": 0.1, "text": "Carson City"},
        ]
    }
    assert upstream.last_request.json["top_n"] == 2
    problems = [{"loc": ["body", "query"], "msg": "field required", "type": "value_error.missing"}]
    upstream.enqueue(jinaai.error_reply(422, problems))
    failed = infer(svc, "rerank", info["inference_id"], {"query": "q", "input": docs})
    assert failed.status_code == 422
    assert '"msg":"field required"' in failed.json()["error"]["reason"]
    upstream.enqueue(jinaai.error_reply(401, "Unauthorized"))
    assert infer(svc, "rerank", info["inference_id"], {"query": "q", "input": docs}).status_code == 401


# -- voyageai --------------------------------------------------------------------------------


def voyage_embedding(
    svc: RunningService, upstream: FakeProvider, vector: list[float], **settings: Any
) -> dict[str, Any]:
    upstream.enqueue(voyageai.embed_reply([vector]))
    service_settings = {"model_id": voyageai.EMBED_MODEL, "url": upstream.url + "/v1/embeddings", **settings}
    return created(put(svc, "text_embedding", "voyageai", service_settings, {"truncation": True}))


def test_voyageai_put_fills_dimensions(svc: RunningService, upstream: FakeProvider) -> None:
    info = voyage_embedding(svc, upstream, [0.5, 0.25, 0.125])
    settings = info["service_settings"]
    assert (settings["dimensions"], settings["similarity"]) == (3, "dot_product")
    assert settings["rate_limit"] == {"requests_per_minute": 2000}
    assert upstream.last_request.path == "/v1/embeddings"
    assert_headers(upstream)
    assert upstream.last_request.json == {
        "input": ["how big"],
        "model": voyageai.EMBED_MODEL,
        "input_type": "document",
        "truncation": True,
        "output_dtype": "float",
    }
    upstream.enqueue(voyageai.embed_reply([[0.5, 0.25, 0.125]]))
    assert infer(
        svc, "text_embedding", info["inference_id"], {"input": "a", "input_type": "search"}
    ).json() == {"text_embedding": [{"embedding": [0.5, 0.25, 0.125]}]}
    assert upstream.last_request.json["input_type"] == "query"
    assert "output_dimension" not in upstream.last_request.json


def test_voyageai_dimensions_and_dtype(svc: RunningService, upstream: FakeProvider) -> None:
    info = voyage_embedding(svc, upstream, [1, -2], dimensions=2, embedding_type="int8")
    assert upstream.last_request.json["output_dimension"] == 2
    assert upstream.last_request.json["output_dtype"] == "int8"
    upstream.enqueue(voyageai.embed_reply([[3, -4]]))
    response = infer(svc, "text_embedding", info["inference_id"], {"input": ["a"]})
    assert response.json() == {"text_embedding_bytes": [{"embedding": [3, -4]}]}


@pytest.mark.parametrize("input_type", ["classification", "clustering"])
def test_voyageai_refuses_classification_and_clustering(
    svc: RunningService, upstream: FakeProvider, input_type: str
) -> None:
    info = voyage_embedding(svc, upstream, [0.5])
    probes = len(upstream.requests)
    response = infer(svc, "text_embedding", info["inference_id"], {"input": ["a"], "input_type": input_type})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "validation_exception"
    assert response.json()["error"]["reason"] == (
        f"Validation Failed: 1: Input type [{input_type}] is not supported for [Voyage AI];"
    )
    assert len(upstream.requests) == probes
    refused = put(svc, "text_embedding", "voyageai", {"model_id": "voyage-3"}, {"input_type": input_type})
    assert refused.status_code == 400 and "[task_settings] Invalid value" in refused.json()["error"]["reason"]


@pytest.mark.parametrize(("model", "batch"), [("voyage-3", 10), ("voyage-3-lite", 30), ("voyage-3.5", 7)])
def test_voyageai_batch_size_per_model(
    svc: RunningService, upstream: FakeProvider, model: str, batch: int
) -> None:
    info = voyage_embedding(svc, upstream, [0.5], model_id=model)
    inputs = [f"t{i}" for i in range(batch + 1)]
    upstream.enqueue(voyageai.embed_reply([[0.5]] * batch), voyageai.embed_reply([[0.5]]))
    response = infer(svc, "text_embedding", info["inference_id"], {"input": inputs})
    assert response.status_code == 200, response.text
    assert len(response.json()["text_embedding"]) == batch + 1
    assert sorted(len(r.json["input"]) for r in upstream.requests[1:]) == [1, batch]


def test_voyageai_rerank_and_errors(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(voyageai.rerank_reply([(0, 0.2)]))
    # the errors' mapping below, not the retries
    settings = {
        "model_id": voyageai.RERANK_MODEL,
        "url": upstream.url + "/v1/rerank",
        "upstream_max_retries": 0,
    }
    info = created(put(svc, "rerank", "voyageai", settings, {"top_k": 5, "truncation": False}))
    assert upstream.last_request.json == {
        "model": voyageai.RERANK_MODEL,
        "query": "test query",
        "documents": ["how big"],
        "top_k": 5,
        "truncation": False,
    }
    docs = ["a", "b", "c"]
    upstream.enqueue(voyageai.rerank_reply([(2, 0.4375), (1, 0.421875)], docs))
    body = {"query": "q", "input": docs, "top_n": 2, "return_documents": True}
    assert infer(svc, "rerank", info["inference_id"], body).json() == {
        "rerank": [
            {"index": 2, "relevance_score": 0.4375, "text": "c"},
            {"index": 1, "relevance_score": 0.421875, "text": "b"},
        ]
    }
    assert upstream.last_request.json["top_k"] == 2
    assert upstream.last_request.json["return_documents"] is True
    upstream.enqueue(voyageai.error_reply(429, "You have exceeded the rate limit"))
    limited = infer(svc, "rerank", info["inference_id"], {"query": "q", "input": docs})
    assert limited.status_code == 429
    assert limited.json()["error"]["reason"].endswith("Error message: [You have exceeded the rate limit]")
