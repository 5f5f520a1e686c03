"""Cached answers as bytes and back (inference_service.cache.codec)."""

from __future__ import annotations

import time

import msgspec

from inference_service.cache.codec import decode_result, decode_stream, encode_result, encode_stream
from inference_service.model.chat import ChatCompletionChunk, ChunkChoice, Delta, Usage
from inference_service.model.embedding import (
    JsonVector,
    SparseEmbedding,
    SparseEmbeddingResult,
    TextEmbeddingResult,
)
from inference_service.model.rerank import RankedDocument, RerankResult


def chunk(text: str | None, usage: Usage | None = None) -> ChatCompletionChunk:
    choices = [] if text is None else [ChunkChoice(delta=Delta(content=text), index=0)]
    return ChatCompletionChunk(
        id="c", choices=choices, model="m", object="chat.completion.chunk", usage=usage
    )


def test_a_stream_comes_back_as_the_same_batches() -> None:
    batches = [
        [chunk("Hel"), chunk("lo")],
        [chunk(None, Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5))],
    ]
    before = time.time()
    entry = decode_stream(encode_stream(batches))
    assert entry.value == batches
    assert before <= entry.stored_at <= time.time() and entry.age_s >= 0


def test_dense_vectors_come_back_as_their_json_text() -> None:
    result = TextEmbeddingResult(
        embeddings=[[0.5, -0.25], JsonVector(msgspec.Raw(b"[1.0,2e-3]"), 2)], input_tokens=4
    )
    back = decode_result(encode_result(result), TextEmbeddingResult).value
    assert isinstance(back, TextEmbeddingResult) and back.input_tokens == 4 and back.element_type == "float"
    assert all(isinstance(v, JsonVector) for v in back.embeddings)
    assert [v.values() for v in back.embeddings if isinstance(v, JsonVector)] == [[0.5, -0.25], [1.0, 0.002]]


def test_sparse_and_rerank_results_round_trip() -> None:
    sparse = SparseEmbeddingResult(embeddings=[SparseEmbedding(embedding={"bread": 1.5}, is_truncated=True)])
    assert decode_result(encode_result(sparse), SparseEmbeddingResult).value == sparse
    ranked = RerankResult(ranked=[RankedDocument(index=1, relevance_score=0.75, text="loaf")])
    assert decode_result(encode_result(ranked), RerankResult).value == ranked
