"""Cached answers as bytes: what a store keeps, and what a hit turns back into.

An entry is MessagePack of ``[stored_at, value]``: a stream as its batches of chunks (so a hit
is replayed as the same batches, and every face renders the same frames), a unary answer as
its result. Dense vectors are kept as their JSON text (a :class:`JsonVector`), which is how
the JSON faces write them, so a hit never decodes a float. ``stored_at`` (epoch seconds) gives
the ``Age`` of a hit and lets a request's ``Cache-Control: max-age`` refuse an older one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Generic, TypeVar

import msgspec

from inference_service.model.chat import ChatCompletionChunk
from inference_service.model.embedding import (
    ElementType,
    JsonVector,
    SparseEmbeddingResult,
    TextEmbeddingResult,
    Vector,
)
from inference_service.model.rerank import RerankResult

T = TypeVar("T")
Batches = list[list[ChatCompletionChunk]]


class Entry(msgspec.Struct, Generic[T], array_like=True):
    stored_at: float
    value: T

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.stored_at)


class _Embeddings(msgspec.Struct, array_like=True):
    vectors: list[tuple[bytes, int]]
    """Each vector's JSON text and length."""
    element_type: ElementType
    input_tokens: int | None


_ENCODER = msgspec.msgpack.Encoder()
_STREAM = msgspec.msgpack.Decoder(Entry[Batches])
_EMBEDDINGS = msgspec.msgpack.Decoder(Entry[_Embeddings])
_SPARSE = msgspec.msgpack.Decoder(Entry[SparseEmbeddingResult])
_RERANK = msgspec.msgpack.Decoder(Entry[RerankResult])

Unary = TextEmbeddingResult | SparseEmbeddingResult | RerankResult


def encode_stream(batches: Batches) -> bytes:
    return _ENCODER.encode(Entry(time.time(), batches))


def decode_stream(data: bytes) -> Entry[Batches]:
    return _STREAM.decode(data)


def encode_result(result: Unary) -> bytes:
    if isinstance(result, TextEmbeddingResult):
        value: object = _Embeddings(
            [_json_vector(v) for v in result.embeddings], result.element_type, result.input_tokens
        )
    else:
        value = result
    return _ENCODER.encode(Entry(time.time(), value))


def decode_result(data: bytes, kind: type[Unary]) -> Entry[Unary]:
    if kind is TextEmbeddingResult:
        entry = _EMBEDDINGS.decode(data)
        stored = entry.value
        vectors: Sequence[Vector] = [JsonVector(msgspec.Raw(raw), length) for raw, length in stored.vectors]
        result = TextEmbeddingResult(
            embeddings=vectors, element_type=stored.element_type, input_tokens=stored.input_tokens
        )
        return Entry(entry.stored_at, result)
    if kind is SparseEmbeddingResult:
        sparse = _SPARSE.decode(data)
        return Entry(sparse.stored_at, sparse.value)
    ranked = _RERANK.decode(data)
    return Entry(ranked.stored_at, ranked.value)


def _json_vector(vector: Vector) -> tuple[bytes, int]:
    if isinstance(vector, JsonVector):
        return bytes(vector.raw), vector.length
    return msgspec.json.encode(list(vector)), len(vector)
