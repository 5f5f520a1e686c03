"""OpenAI's Embeddings API (``POST /v1/embeddings``), shared by every service that speaks it.

Request: ``{"input": [...], "model": ..., "encoding_format": "float"}`` plus ``dimensions``
only when the user chose them (models without the option refuse it) and ``user`` from task
settings. ``float`` rather than base64: the service decodes each number once and writes it
back as the same shortest decimal, where base64 float32 would come back as long float64
decimals. Response: ``{"data": [{"index": i, "embedding": [...]}, ...]}``, put back in input
order by ``index``.

Services with no notion of input type refuse a REST ``input_type`` with Elasticsearch's 400
(the internal values of semantic_text and the validation call pass, and nothing is sent).
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult, refuse_rest_input_type

_ENCODER = msgspec.json.Encoder()


class _Embedding(msgspec.Struct, gc=False):
    index: int
    embedding: list[float]


class _EmbeddingsBody(msgspec.Struct):
    data: list[_Embedding]


_DECODER = msgspec.json.Decoder(_EmbeddingsBody)


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


def parse_openai_embeddings(raw: bytes, inference_id: str) -> TextEmbeddingResult:
    """The vectors in input order; a body that is not an embeddings list is a 502."""
    try:
        data = _DECODER.decode(raw).data
    except msgspec.DecodeError as exc:
        raise MalformedUpstreamError(
            f"The provider sent a malformed embeddings response for inference entity id "
            f"[{inference_id}]: {exc}"
        ) from None
    data.sort(key=lambda item: item.index)
    if [item.index for item in data] != list(range(len(data))):
        raise MalformedUpstreamError(
            f"The provider's embeddings for inference entity id [{inference_id}] do not have the indexes "
            f"0..{len(data) - 1}"
        )
    return TextEmbeddingResult(embeddings=[item.embedding for item in data])
