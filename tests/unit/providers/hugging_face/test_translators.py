"""The hugging_face translators: TEI's request bodies, its answers and error bodies (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference_service.errors import InvalidRequestError, MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.model.rerank import RankedDocument, RerankRequest
from inference_service.providers.hugging_face.embeddings import (
    parse_hugging_face_embeddings,
    to_hugging_face_embeddings_request,
)
from inference_service.providers.hugging_face.rerank import (
    parse_hugging_face_rerank,
    to_hugging_face_rerank_request,
)
from inference_service.providers.hugging_face.response import parse_hugging_face_error

JSON = Path(__file__).parents[3] / "fixtures" / "json"
URL = "http://tei:8080/embed"


def test_embeddings_request_is_inputs_only() -> None:
    body = to_hugging_face_embeddings_request(EmbeddingRequest(input=["a", "b"]))
    assert body == b'{"inputs":["a","b"]}'


@pytest.mark.parametrize("internal", [InputType.INTERNAL_INGEST, InputType.INTERNAL_SEARCH])
def test_internal_input_types_send_nothing(internal: InputType) -> None:
    body = to_hugging_face_embeddings_request(EmbeddingRequest(input=["a"], input_type=internal))
    assert json.loads(body) == {"inputs": ["a"]}


@pytest.mark.parametrize("rest", [InputType.INGEST, InputType.SEARCH, InputType.CLASSIFICATION])
def test_rest_input_types_are_refused(rest: InputType) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        to_hugging_face_embeddings_request(EmbeddingRequest(input=["a"], input_type=rest))
    assert caught.value.reason == (
        f"Validation Failed: 1: Invalid input_type [{rest}]. The input_type option is not supported by "
        "this service;"
    )


def test_the_recorded_embed_answer() -> None:
    result = parse_hugging_face_embeddings((JSON / "hugging_face_embeddings.json").read_bytes(), "e")
    assert result.embeddings == [
        [0.0008421829, -0.013275508, 0.04517931],
        [-0.032417495, 0.0061542946, 0.021339174],
    ]
    assert result.element_type == "float"


def test_the_embeddings_object_format() -> None:
    result = parse_hugging_face_embeddings(b'{"embeddings": [[1.0, 2.0], [3, 4]]}', "e")
    assert result.embeddings == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "raw", [b'{"error": "x"}', b"[[1.0], 2]", b'[["a"]]', b"not json", b'{"embeddings": [1.0]}']
)
def test_malformed_embed_answers(raw: bytes) -> None:
    with pytest.raises(MalformedUpstreamError) as caught:
        parse_hugging_face_embeddings(raw, "my-tei")
    assert "malformed embeddings response for inference entity id [my-tei]" in caught.value.reason
    assert caught.value.status == 502


def test_rerank_request_uses_tei_field_names() -> None:
    request = RerankRequest(query="q", input=["a", "b"])
    assert to_hugging_face_rerank_request(request, top_n=None, return_documents=None) == (
        b'{"texts":["a","b"],"query":"q"}'
    )
    body = json.loads(to_hugging_face_rerank_request(request, top_n=1, return_documents=False))
    assert body == {"texts": ["a", "b"], "query": "q", "return_text": False, "top_n": 1}


def test_the_recorded_rerank_answer() -> None:
    result = parse_hugging_face_rerank((JSON / "hugging_face_rerank.json").read_bytes(), "r")
    assert result.ranked == [
        RankedDocument(
            index=1, relevance_score=0.99891484, text="Deep Learning is a subset of machine learning."
        ),
        RankedDocument(index=0, relevance_score=0.0012089817, text="Paris is the capital of France."),
    ]


def test_rerank_answers_are_sorted_and_read_relevance_score_and_document_text() -> None:
    raw = b'[{"index": 0, "relevance_score": 0.1}, {"index": 1, "score": 0.9, "document": {"text": "b"}}]'
    assert parse_hugging_face_rerank(raw, "r").ranked == [
        RankedDocument(index=1, relevance_score=0.9, text="b"),
        RankedDocument(index=0, relevance_score=0.1),
    ]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'[{"index": 0}]', "has no [score] at position [0]"),
        (b'[{"score": 0.5}]', "malformed rerank response"),
        (b'{"results": []}', "malformed rerank response"),
        (b'[{"index": "0", "score": 0.5}]', "malformed rerank response"),
    ],
)
def test_malformed_rerank_answers(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedUpstreamError) as caught:
        parse_hugging_face_rerank(raw, "r")
    assert problem in caught.value.reason


def test_tei_error_body() -> None:
    error = parse_hugging_face_error(422, (JSON / "hugging_face_error.json").read_bytes(), "e", URL)
    assert error.status == 422
    assert error.error_type == "Validation"
    assert error.reason == (
        "Received an unsuccessful status code for request from inference entity id [e] status [422]. "
        "Error message: [batch size 40 > maximum allowed batch size 32]"
    )


def test_inference_endpoints_error_body_and_bare_statuses() -> None:
    error = parse_hugging_face_error(400, b'{"error": "A valid user token is required"}', "e", URL)
    assert (error.status, error.error_type) == (400, "status_exception")
    assert error.reason.endswith("Error message: [A valid user token is required]")
    bare = parse_hugging_face_error(401, b"", "e", URL)
    assert bare.status == 401
    assert bare.reason == (
        "Received an authentication error status code for request from inference entity id [e] "
        "status [401]. Error message: [HTTP 401]"
    )
    overloaded = parse_hugging_face_error(503, b"upstream connect error", "e", URL)
    assert overloaded.status == 502 and overloaded.reason.endswith("[upstream connect error]")
    missing = parse_hugging_face_error(404, b"", "e", URL)
    assert missing.reason.startswith(f"Resource not found at [{URL}]")
