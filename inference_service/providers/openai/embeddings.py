"""OpenAI's Embeddings API (``POST /v1/embeddings``), shared by every service that speaks it.

Request: ``{"input": [...], "model": ..., "encoding_format": "float"}`` plus ``dimensions``
only when the user chose them (models without the option refuse it) and ``user`` from task
settings. ``float`` rather than base64: the vectors can then travel on as the provider wrote
them (:mod:`inference_service.providers.json_vectors`), where base64 would have to be decoded
into floats and printed again. Response: ``{"data": [{"index": i, "embedding": [...]}, ...]}``,
put back in input order by ``index``.

Services with no notion of input type refuse a REST ``input_type`` with Elasticsearch's 400
(the internal values of semantic_text and the validation call pass, and nothing is sent).
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult, refuse_rest_input_type
from inference_service.providers.json_vectors import json_vector

_ENCODER = msgspec.json.Encoder()


class _Embedding(msgspec.Struct, gc=False):
    index: int
    embedding: msgspec.Raw


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
    vectors = [json_vector(item.embedding) for item in data]
    if None in vectors:
        position = vectors.index(None)
        raise MalformedUpstreamError(
            f"The provider's embedding at index [{position}] for inference entity id [{inference_id}] is not "
            "an array of numbers"
        )
    return TextEmbeddingResult(embeddings=[v for v in vectors if v is not None])
