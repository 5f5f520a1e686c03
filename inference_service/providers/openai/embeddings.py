"""OpenAI's Embeddings API (``POST /v1/embeddings``), shared by every service that speaks it.

Request: ``{"input": [...], "model": ..., "encoding_format": "float"}`` plus ``dimensions``
only when the user chose them (models without the option refuse it) and ``user`` from task
settings. ``float`` rather than base64: the vectors can then travel on as the provider wrote
them (:mod:`inference_service.providers.json_vectors`), where base64 would have to be decoded
into floats and printed again. Response: ``{"data": [{"index": i, "embedding": [...]}, ...]}``,
put back in input order by ``index``. Other services answer in the same shape, some with
signed bytes for ``byte`` and ``bit`` vectors (:func:`parse_openai_embeddings` with that
element type: those are decoded and range-checked, being small).

Services with no notion of input type refuse a REST ``input_type`` with Elasticsearch's 400
(the internal values of semantic_text and the validation call pass, and nothing is sent).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import (
    ElementType,
    EmbeddingRequest,
    Int8,
    TextEmbeddingResult,
    Vector,
    refuse_rest_input_type,
)
from inference_service.providers.http import decode_answer
from inference_service.providers.json_vectors import json_vector

_ENCODER = msgspec.json.Encoder()


class _RawEmbedding(msgspec.Struct, gc=False):
    index: int
    embedding: msgspec.Raw


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    total_tokens: int | None = None


class _RawBody(msgspec.Struct):
    data: list[_RawEmbedding]
    usage: _Usage | None = None


class _ByteEmbedding(msgspec.Struct, gc=False):
    index: int
    embedding: list[Int8]


class _ByteBody(msgspec.Struct):
    data: list[_ByteEmbedding]
    usage: _Usage | None = None


E = TypeVar("E", _RawEmbedding, _ByteEmbedding)
_RAW = msgspec.json.Decoder(_RawBody)
_BYTES = msgspec.json.Decoder(_ByteBody)


def to_openai_embeddings_request(
    request: EmbeddingRequest,
    *,
    model: str | None,
    dimensions: int | None = None,
    user: str | None = None,
) -> bytes:
    refuse_rest_input_type(request.input_type)
    body: dict[str, Any] = {"input": request.input}
    if model:
        body["model"] = model
    body["encoding_format"] = "float"
    if dimensions is not None:
        body["dimensions"] = dimensions
    if user:
        body["user"] = user
    return _ENCODER.encode(body)


def parse_openai_embeddings(
    raw: bytes, inference_id: str, element_type: ElementType = "float"
) -> TextEmbeddingResult:
    """The vectors in input order (signed bytes for ``byte`` and ``bit``); a body that is not
    an embeddings list is a 502."""
    vectors: list[Vector]
    usage: _Usage | None
    if element_type == "float":
        answer = decode_answer(_RAW, raw, inference_id, "embeddings")
        usage = answer.usage
        floats = _in_order(answer.data, inference_id)
        checked = [json_vector(item.embedding) for item in floats]
        vectors = []
        for position, vector in enumerate(checked):
            if vector is None:
                raise MalformedUpstreamError(
                    f"The provider's embedding at index [{position}] for inference entity id "
                    f"[{inference_id}] is not an array of numbers"
                )
            vectors.append(vector)
    else:
        signed_answer = decode_answer(_BYTES, raw, inference_id, "embeddings")
        usage = signed_answer.usage
        vectors = [item.embedding for item in _in_order(signed_answer.data, inference_id)]
    tokens = (
        None
        if usage is None
        else (usage.prompt_tokens if usage.prompt_tokens is not None else usage.total_tokens)
    )
    return TextEmbeddingResult(embeddings=vectors, element_type=element_type, input_tokens=tokens)


def _in_order(data: list[E], inference_id: str) -> list[E]:
    data.sort(key=lambda item: item.index)
    if [item.index for item in data] != list(range(len(data))):
        raise MalformedUpstreamError(
            f"The provider's embeddings for inference entity id [{inference_id}] do not have the indexes "
            f"0..{len(data) - 1}"
        )
    return data
