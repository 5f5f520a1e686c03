"""Upstream answers through json_parser paths, per task, and upstream errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_service.errors import MalformedUpstreamError
from inference_service.providers.custom.response import (
    parse_custom_completion,
    parse_custom_embeddings,
    parse_custom_error,
    parse_custom_rerank,
    parse_custom_sparse_embeddings,
)
from inference_service.providers.custom.settings import (
    CompletionJsonParser,
    EmbeddingType,
    RerankJsonParser,
    SparseEmbeddingJsonParser,
    TextEmbeddingJsonParser,
)
from tests.fakes import custom


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


def malformed(call: Any) -> str:
    with pytest.raises(MalformedUpstreamError) as caught:
        call()
    assert caught.value.status == 502
    return caught.value.reason


# -- text_embedding --------------------------------------------------------------------------


def test_float_vectors_from_the_vectors_api_and_openai_shapes() -> None:
    parser = TextEmbeddingJsonParser(text_embeddings="$.vectors[*]")
    result = parse_custom_embeddings(custom.vectors([[0.5, -1], [2, 0.25]]), parser, "e")
    assert (result.embeddings, result.element_type) == ([[0.5, -1], [2, 0.25]], "float")
    openai = raw({"data": [{"embedding": [0.1, 0.2]}, {"embedding": [0.3, 0.4]}]})
    parsed = parse_custom_embeddings(
        openai, TextEmbeddingJsonParser(text_embeddings="$.data[*].embedding"), "e"
    )
    assert parsed.embeddings == [[0.1, 0.2], [0.3, 0.4]]


@pytest.mark.parametrize(
    ("embedding_type", "element_type"), [("byte", "byte"), ("bit", "bit"), ("binary", "bit")]
)
def test_byte_and_bit_vectors_are_signed_int8(embedding_type: EmbeddingType, element_type: str) -> None:
    parser = TextEmbeddingJsonParser(text_embeddings="$.vectors[*]", embedding_type=embedding_type)
    result = parse_custom_embeddings(custom.vectors([[12, -7, 101.0]]), parser, "e")
    assert (result.embeddings, result.element_type) == ([[12, -7, 101]], element_type)
    problem = malformed(lambda: parse_custom_embeddings(custom.vectors([[1, 128]]), parser, "e"))
    assert "text embedding entry [0]: expected an integer from -128 to 127, found the number [128]" in problem


def test_the_embedding_type_defaults_to_float() -> None:
    assert TextEmbeddingJsonParser(text_embeddings="$.v[*]").embedding_type == "float"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "is not JSON"),
        (raw({"vector": []}), "Unable to find field ['vectors'] of path [$.vectors[*]]"),
        (raw({"vectors": {"a": [1]}}), None),
        (raw({"vectors": [[1, "2"]]}), "text embedding entry [0]: expected a number, found a string"),
        (
            raw({"vectors": [3]}),
            "text embedding entry [0]: expected an array of numbers, found the number [3]",
        ),
        (raw({"vectors": [[True]]}), "expected a number, found the boolean [true]"),
    ],
)
def test_answers_that_do_not_fit_are_a_502_naming_the_path(body: bytes, problem: str | None) -> None:
    parser = TextEmbeddingJsonParser(text_embeddings="$.vectors[*]")
    if problem is None:  # an object's members are selected by [*] too (RFC 9535)
        assert parse_custom_embeddings(body, parser, "e").embeddings == [[1]]
        return
    reason = malformed(lambda: parse_custom_embeddings(body, parser, "emb-1"))
    if body != b"not json":
        assert reason.startswith(
            "Failed to parse the response for inference entity id [emb-1] with path [$.vectors[*]]: "
        )
    assert problem in reason


# -- sparse_embedding ------------------------------------------------------------------------

SPARSE = SparseEmbeddingJsonParser(
    token_path="$.result.sparse_embeddings[*].embedding[*].tokenId",
    weight_path="$.result.sparse_embeddings[*].embedding[*].weight",
)


def test_sparse_tokens_and_weights_pair_up_per_input() -> None:
    body = custom.sparse([[(6, 0.101), (163040, 0.28417)], [], [(7, 1)]])
    result = parse_custom_sparse_embeddings(body, SPARSE, "s")
    assert [e.embedding for e in result.embeddings] == [{"6": 0.101, "163040": 0.28417}, {}, {"7": 1}]
    assert not any(e.is_truncated for e in result.embeddings)
    named = raw({"items": [{"tokens": [{"t": "harbor", "w": 1.5}]}]})
    parser = SparseEmbeddingJsonParser(
        token_path="$.items[*].tokens[*].t", weight_path="$.items[*].tokens[*].w"
    )
    assert parse_custom_sparse_embeddings(named, parser, "s").embeddings[0].embedding == {"harbor": 1.5}


def test_sparse_lists_of_different_sizes_are_a_502() -> None:
    parser = SparseEmbeddingJsonParser(token_path="$.t[*]", weight_path="$.w[*]")
    reason = malformed(
        lambda: parse_custom_sparse_embeddings(raw({"t": [[1]], "w": [[1], [2]]}), parser, "s")
    )
    assert "the tokens list has [1] entries but the weights list [2]" in reason
    reason = malformed(lambda: parse_custom_sparse_embeddings(raw({"t": [[1, 2]], "w": [[1]]}), parser, "s"))
    assert "sparse embedding entry [0]: the tokens list has [2] entries" in reason
    reason = malformed(lambda: parse_custom_sparse_embeddings(raw({"t": [[None]], "w": [[1]]}), parser, "s"))
    assert "expected a token string or id, found null" in reason


# -- rerank ----------------------------------------------------------------------------------

COHERE = RerankJsonParser(
    relevance_score="$.results[*].relevance_score",
    reranked_index="$.results[*].index",
    document_text="$.results[*].document.text",
)


def test_rerank_in_cohere_shape() -> None:
    body = custom.cohere_rerank([(2, 0.9, "c"), (0, 0.4, "a")])
    ranked = parse_custom_rerank(body, COHERE, "r").ranked
    assert [(d.index, d.relevance_score, d.text) for d in ranked] == [(2, 0.9, "c"), (0, 0.4, "a")]


def test_rerank_without_index_path_is_in_input_order() -> None:
    parser = RerankJsonParser(relevance_score="$.scores[*]")
    ranked = parse_custom_rerank(raw({"scores": [0.1, 0.7]}), parser, "r").ranked
    assert [(d.index, d.relevance_score, d.text) for d in ranked] == [(0, 0.1, None), (1, 0.7, None)]


def test_rerank_fields_must_line_up() -> None:
    body = raw({"results": [{"index": 0, "relevance_score": 0.5}, {"relevance_score": 0.2, "index": 1}]})
    parser = RerankJsonParser(relevance_score="$.results[*].relevance_score", reranked_index="$.idx[*]")
    reason = malformed(lambda: parse_custom_rerank(raw({"results": [], "idx": [0]}), parser, "r"))
    assert "the number of index fields [1] is not the number of scores [0]" in reason
    reason = malformed(lambda: parse_custom_rerank(body, COHERE, "r"))
    assert "Unable to find field ['document']" in reason
    bad = raw({"results": [{"index": "0", "relevance_score": 0.5}]})
    index_only = RerankJsonParser(
        relevance_score="$.results[*].relevance_score", reranked_index="$.results[*].index"
    )
    reason = malformed(lambda: parse_custom_rerank(bad, index_only, "r"))
    assert "expected an integer index, found a string" in reason


# -- completion ------------------------------------------------------------------------------


def test_completion_is_one_string() -> None:
    openai = raw({"choices": [{"message": {"content": "Hello there"}}]})
    assert parse_custom_completion(
        openai, CompletionJsonParser(completion_result="$.choices[*].message.content"), "c"
    ) == ("Hello there")
    plain = CompletionJsonParser(completion_result="$.output.text")
    assert parse_custom_completion(raw({"output": {"text": "hi"}}), plain, "c") == "hi"
    two = raw({"choices": [{"message": {"content": "a"}}, {"message": {"content": "b"}}]})
    parser = CompletionJsonParser(completion_result="$.choices[*].message.content")
    assert "expected one completion, found [2] values" in malformed(
        lambda: parse_custom_completion(two, parser, "c")
    )
    assert "expected a string, found the number [3]" in malformed(
        lambda: parse_custom_completion(raw({"output": {"text": 3}}), plain, "c")
    )


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "passed", "prefix"),
    [
        (400, 400, "Received an unsuccessful status code"),
        (401, 401, "Received an authentication error status code"),
        (404, 404, "Received an unsuccessful status code"),
        (429, 429, "Received a rate limit status code"),
        (500, 502, "Received a server error status code"),
        (503, 502, "Received a server error status code"),
        (302, 502, "Unhandled redirection"),
    ],
)
def test_upstream_errors_keep_their_status_and_body(status: int, passed: int, prefix: str) -> None:
    error = parse_custom_error(status, b' {"message": "invalid api token"}\n', "my-id")
    assert error.status == passed
    assert error.reason == (
        f"{prefix} for request from inference entity id [my-id] status [{status}]. "
        'Error message: [{"message": "invalid api token"}]'
    )
    assert parse_custom_error(502, b"", "x").reason.endswith("Error message: [HTTP 502]")
