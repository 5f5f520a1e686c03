"""Voyage AI's embeddings API (``POST /v1/embeddings``), as Elasticsearch calls it (pure).

Request: ``{"input": [...], "model": ..., "input_type"?: "document"|"query", "truncation"?,
"output_dimension"?, "output_dtype": "float"|"int8"|"binary"}``. ``input_type`` is the
request's (ingest -> ``document``, search -> ``query``, semantic_text's internal values as
their REST twins), else the task settings'; ``classification`` and ``clustering`` are refused
with Elasticsearch's 400. ``output_dimension`` is sent only when the user chose
``dimensions`` (Elasticsearch also sends the size its validation call filled in, which the
models with one fixed size refuse). Response: OpenAI's shape, ``{"data": [{"index",
"embedding"}], ...}``; ``int8`` and ``binary`` vectors are signed bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.model.embedding import ElementType, EmbeddingRequest, InputType, check_input_type
from inference_service.providers.voyageai.settings import (
    VoyageAIEmbeddingServiceSettings,
    VoyageAIEmbeddingTaskSettings,
)

SERVICE_NAME = "Voyage AI"
INPUT_TYPES = {InputType.INGEST: "document", InputType.SEARCH: "query"}
ALLOWED_INPUT_TYPES = frozenset(
    (InputType.INGEST, InputType.SEARCH, InputType.INTERNAL_INGEST, InputType.INTERNAL_SEARCH)
)
OUTPUT_DTYPES: dict[ElementType, str] = {"float": "float", "byte": "int8", "bit": "binary"}
_ENCODER = msgspec.json.Encoder()


def to_voyageai_embeddings_request(
    request: EmbeddingRequest, settings: VoyageAIEmbeddingServiceSettings, task: VoyageAIEmbeddingTaskSettings
) -> bytes:
    check_input_type(request.input_type, ALLOWED_INPUT_TYPES, SERVICE_NAME)
    body: dict[str, Any] = {"input": request.input, "model": settings.model_id}
    input_type = request.input_type or (InputType(task.input_type) if task.input_type else None)
    if input_type is not None:
        body["input_type"] = INPUT_TYPES[input_type.public]
    if task.truncation is not None:
        body["truncation"] = task.truncation
    if settings.dimensions_set_by_user and settings.dimensions is not None:
        body["output_dimension"] = settings.dimensions
    body["output_dtype"] = OUTPUT_DTYPES[settings.element_type]
    return _ENCODER.encode(body)
