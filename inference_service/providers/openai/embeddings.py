"""OpenAI's Embeddings API (``POST /v1/embeddings``), shared by every service that speaks it.

Request: ``{"input": [...], "model": ..., "encoding_format": "float"}`` plus ``dimensions``
only when the user chose them (models without the option refuse it) and ``user`` from task
settings. ``float`` rather than base64: the service decodes each number once and writes it
back as the same shortest decimal, where base64 float32 would come back as long float64
decimals. Response: ``{"data": [{"index": i, "embedding": [...]}, ...]}``, put back in input
order by ``index``. Other services answer in the same shape, some with signed bytes for
``byte`` and ``bit`` vectors (:func:`parse_openai_embeddings` with that element type).

Services with no notion of input type refuse a REST ``input_type`` with Elasticsearch's 400
(the internal values of semantic_text and the validation call pass, and nothing is sent).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import (
    ElementType,
    EmbeddingRequest,
    Int8,
    TextEmbeddingResult,
    refuse_rest_input_type,
)
from inference_service.providers.http import decode_answer

_ENCODER = msgspec.json.Encoder()
V = TypeVar("V", float, Int8)


class _Embedding(msgspec.Struct, Generic[V], gc=False):
    index: int
    embedding: list[V]


class _EmbeddingsBody(msgspec.Struct, Generic[V]):
    data: list[_Embedding[V]]


_FLOATS = msgspec.json.Decoder(_EmbeddingsBody[float])
_BYTES = msgspec.json.Decoder(_EmbeddingsBody[Int8])


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
    decoder: msgspec.json.Decoder[_EmbeddingsBody[Any]] = _FLOATS if element_type == "float" else _BYTES
    data = decode_answer(decoder, raw, inference_id, "embeddings").data
    data.sort(key=lambda item: item.index)
    if [item.index for item in data] != list(range(len(data))):
        raise MalformedUpstreamError(
            f"The provider's embeddings for inference entity id [{inference_id}] do not have the indexes "
            f"0..{len(data) - 1}"
        )
    return TextEmbeddingResult(embeddings=[item.embedding for item in data], element_type=element_type)
