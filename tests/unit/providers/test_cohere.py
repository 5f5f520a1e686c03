"""Cohere translators: the v2 embed and rerank bodies Elasticsearch sends, answers, errors."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.model.rerank import RankedDocument, RerankRequest
from inference_service.providers.cohere.embeddings import parse_cohere_embeddings, to_cohere_embed_request
from inference_service.providers.cohere.rerank import parse_cohere_rerank, to_cohere_rerank_request
from inference_service.providers.cohere.settings import (
    CohereEmbeddingServiceSettings,
    CohereEmbeddingTaskSettings,
    CohereRerankServiceSettings,
    CohereRerankTaskSettings,
)
from inference_service.providers.http import parse_json_field_error


def embed_body(
    input_type: InputType | None = None, *, task: dict[str, Any] | None = None, **settings: Any
) -> bytes:
    service = msgspec.convert({"model_id": "embed-english-v3.0", **settings}, CohereEmbeddingServiceSettings)
    return to_cohere_embed_request(
        EmbeddingRequest(input=["abc"], input_type=input_type),
        service,
        msgspec.convert(task or {}, CohereEmbeddingTaskSettings),
    )


def test_embed_body_in_elasticsearch_order() -> None:
    assert embed_body(InputType.INTERNAL_INGEST, task={"input_type": "search", "truncate": "START"}) == (
        b'{"texts":["abc"],"model":"embed-english-v3.0","input_type":"search_document",'
        b'"embedding_types":["float"],"truncate":"START"}'
    )


@pytest.mark.parametrize(
    ("input_type", "sent"),
    [
        (InputType.INGEST, "search_document"),
        (InputType.INTERNAL_INGEST, "search_document"),
        (InputType.SEARCH, "search_query"),
        (InputType.INTERNAL_SEARCH, "search_query"),
        (InputType.CLASSIFICATION, "classification"),
        (InputType.CLUSTERING, "clustering"),
    ],
)
def test_input_types(input_type: InputType, sent: str) -> None:
    assert json.loads(embed_body(input_type))["input_type"] == sent


def test_task_settings_input_type_applies_when_the_request_has_none_and_nothing_is_sent_without_either() -> (
    None
):
    assert json.loads(embed_body(task={"input_type": "clustering"}))["input_type"] == "clustering"
    assert "input_type" not in json.loads(embed_body())


@pytest.mark.parametrize(
    ("embedding_type", "requested", "stored"),
    [
        ("float", "float", "float"),
        ("byte", "int8", "byte"),
        ("int8", "int8", "byte"),
        ("bit", "binary", "bit"),
        ("binary", "binary", "bit"),
    ],
)
def test_embedding_types(embedding_type: str, requested: str, stored: str) -> None:
    assert json.loads(embed_body(embedding_type=embedding_type))["embedding_types"] == [requested]
    settings = msgspec.convert(
        {"model_id": "m", "embedding_type": embedding_type}, CohereEmbeddingServiceSettings
    )
    assert settings.embedding_type == stored


def test_legacy_model_becomes_model_id_and_one_is_required() -> None:
    settings = msgspec.convert({"model": "embed-v4.0"}, CohereEmbeddingServiceSettings)
    assert msgspec.to_builtins(settings) == {"model_id": "embed-v4.0"}
    with pytest.raises(msgspec.ValidationError, match=r"\[service_settings.model_id\] field is required"):
        msgspec.convert({}, CohereRerankServiceSettings)


@pytest.mark.parametrize(
    ("element_type", "key", "vectors"),
    [("float", "float", [[0.5, -0.25]]), ("byte", "int8", [[12, -7]]), ("bit", "binary", [[-86, 15]])],
)
def test_embeddings_of_each_type(element_type: Any, key: str, vectors: list[list[float]]) -> None:
    raw = json.dumps({"id": "x", "embeddings": {key: vectors}, "texts": ["a"], "meta": {}}).encode()
    result = parse_cohere_embeddings(raw, "e", element_type)
    assert (result.embeddings, result.element_type) == (vectors, element_type)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"embeddings": {"float": [[0.1]]}}', "has no [int8] embeddings"),
        (b'{"embeddings": {"int8": [[300]]}}', "Expected `int` <= 127 - at `$.embeddings.int8[0][0]`"),
        (b'{"embeddings": [[0.1]]}', "malformed embeddings response"),
    ],
)
def test_malformed_embeddings(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedUpstreamError) as failed:
        parse_cohere_embeddings(raw, "e", "byte")
    assert problem in failed.value.reason and failed.value.status == 502


def rerank_body(request: RerankRequest, **task: Any) -> Any:
    service = msgspec.convert({"model_id": "rerank-v3.5"}, CohereRerankServiceSettings)
    return json.loads(
        to_cohere_rerank_request(request, service, msgspec.convert(task, CohereRerankTaskSettings))
    )


def test_rerank_body_prefers_the_request_over_task_settings() -> None:
    request = RerankRequest(query="q", input=["a", "b"], top_n=1, return_documents=False)
    assert rerank_body(request, top_n=5, return_documents=True, max_chunks_per_doc=3) == {
        "model": "rerank-v3.5",
        "query": "q",
        "documents": ["a", "b"],
        "return_documents": False,
        "top_n": 1,
        "max_chunks_per_doc": 3,
    }
    fallback = rerank_body(RerankRequest(query="q", input=["a"]), top_n=5, return_documents=True)
    assert (fallback["top_n"], fallback["return_documents"]) == (5, True)
    assert rerank_body(RerankRequest(query="q", input=["a"])) == {
        "model": "rerank-v3.5",
        "query": "q",
        "documents": ["a"],
    }


def test_rerank_answer() -> None:
    raw = (
        b'{"results":[{"index":1,"relevance_score":0.9,"document":{"text":"b"}},'
        b'{"index":0,"relevance_score":0.1}]}'
    )
    assert parse_cohere_rerank(raw, "r").ranked == [
        RankedDocument(index=1, relevance_score=0.9, text="b"),
        RankedDocument(index=0, relevance_score=0.1),
    ]


def test_error_body_message() -> None:
    error = parse_json_field_error(
        401, b'{"message":"invalid api token"}', "e", "https://x/v2/embed", "message"
    )
    assert (error.status, error.error_type) == (401, "status_exception")
    assert error.reason == (
        "Received an authentication error status code for request from inference entity id [e] status [401]. "
        "Error message: [invalid api token]"
    )
    assert parse_json_field_error(503, b"upstream down", "e", "u", "message").status == 502
    assert (
        "Error message: [upstream down]"
        in parse_json_field_error(503, b"upstream down", "e", "u", "message").reason
    )
