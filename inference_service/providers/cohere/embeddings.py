"""Cohere's embed v2 API (``POST /v2/embed``), as Elasticsearch calls it (pure).

Request: ``{"texts": [...], "model": ..., "input_type"?: ..., "embedding_types": [one],
"truncate"?: ...}``. ``input_type`` is the request's (semantic_text's internal values as their
REST twins: ingest -> ``search_document``, search -> ``search_query``, ``classification``,
``clustering``), else the task settings'; with neither, none is sent, as Elasticsearch does
(Cohere then applies its own rule). One embedding type: ``float``, ``int8`` (``byte``
endpoints) or ``binary`` (``bit`` endpoints, packed bits as signed bytes).

Response: ``{"id": ..., "embeddings": {"<type>": [[...], ...]}, "texts": [...], "meta": {...}}``,
one vector per text in input order.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import (
    ElementType,
    EmbeddingRequest,
    InputType,
    Int8,
    TextEmbeddingResult,
)
from inference_service.providers.cohere.settings import (
    CohereEmbeddingServiceSettings,
    CohereEmbeddingTaskSettings,
)
from inference_service.providers.http import decode_answer

INPUT_TYPES = {
    InputType.INGEST: "search_document",
    InputType.SEARCH: "search_query",
    InputType.CLASSIFICATION: "classification",
    InputType.CLUSTERING: "clustering",
}
EMBEDDING_TYPES: dict[ElementType, str] = {"float": "float", "byte": "int8", "bit": "binary"}
"""The ``embedding_types`` value that asks for vectors of each element type."""

_ENCODER = msgspec.json.Encoder()


class _ByType(msgspec.Struct):
    float_: list[list[float]] | None = msgspec.field(default=None, name="float")
    int8: list[list[Int8]] | None = None
    binary: list[list[Int8]] | None = None


class _EmbedAnswer(msgspec.Struct):
    embeddings: _ByType


_DECODER = msgspec.json.Decoder(_EmbedAnswer)


def to_cohere_embed_request(
    request: EmbeddingRequest, settings: CohereEmbeddingServiceSettings, task: CohereEmbeddingTaskSettings
) -> bytes:
    body: dict[str, Any] = {"texts": request.input, "model": settings.model_id}
    input_type = request.input_type or (InputType(task.input_type) if task.input_type else None)
    if input_type is not None:
        body["input_type"] = INPUT_TYPES[input_type.public]
    body["embedding_types"] = [EMBEDDING_TYPES[settings.element_type]]
    if task.truncate is not None:
        body["truncate"] = task.truncate
    return _ENCODER.encode(body)


def parse_cohere_embeddings(raw: bytes, inference_id: str, element_type: ElementType) -> TextEmbeddingResult:
    """The vectors of the requested type; a body without them is a 502."""
    by_type = decode_answer(_DECODER, raw, inference_id, "embeddings").embeddings
    vectors = {"float": by_type.float_, "byte": by_type.int8, "bit": by_type.binary}[element_type]
    if vectors is None:
        raise MalformedUpstreamError(
            f"The provider's embeddings response for inference entity id [{inference_id}] has no "
            f"[{EMBEDDING_TYPES[element_type]}] embeddings"
        )
    return TextEmbeddingResult(embeddings=vectors, element_type=element_type)
