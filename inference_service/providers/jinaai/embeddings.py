"""Jina AI's embeddings API (``POST /v1/embeddings``), as Elasticsearch calls it (pure).

Request: ``{"input": [...], "model": ..., "embedding_type": "float"|"binary", "task"?: ...,
"late_chunking"?: ..., "dimensions"?: ...}``:

- ``task`` is the request's input type, else the task settings': ingest ->
  ``retrieval.passage``, search -> ``retrieval.query``, ``classification``, clustering ->
  ``separation`` (semantic_text's internal values as their REST twins); with neither, none is
  sent. ``jina-clip-v2`` takes ``retrieval.query`` only, so for it any other task is left out.
- ``late_chunking`` is sent when the task settings have it, and is false whenever the inputs
  together exceed 5500 words (the late-chunking models' 8000-token window, with room).
- ``dimensions`` only when the user chose them.

Response: OpenAI's shape, ``{"data": [{"index", "embedding"}], "usage": ...}``; ``binary``
vectors are packed bits as signed bytes.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from inference_service.model.embedding import EmbeddingRequest, InputType
from inference_service.providers.jinaai.settings import (
    JinaAIEmbeddingServiceSettings,
    JinaAIEmbeddingTaskSettings,
)

TASKS = {
    InputType.INGEST: "retrieval.passage",
    InputType.SEARCH: "retrieval.query",
    InputType.CLASSIFICATION: "classification",
    InputType.CLUSTERING: "separation",
}
CLIP_V2 = "jina-clip-v2"
MAX_LATE_CHUNKING_WORDS = 5500
_WORD = re.compile(r"\w+")
_ENCODER = msgspec.json.Encoder()


def to_jinaai_embeddings_request(
    request: EmbeddingRequest, settings: JinaAIEmbeddingServiceSettings, task: JinaAIEmbeddingTaskSettings
) -> bytes:
    body: dict[str, Any] = {
        "input": request.input,
        "model": settings.model_id,
        "embedding_type": "float" if settings.element_type == "float" else "binary",
    }
    input_type = request.input_type or (InputType(task.input_type) if task.input_type else None)
    if input_type is not None:
        public = input_type.public
        if settings.model_id.lower() != CLIP_V2 or public == InputType.SEARCH:
            body["task"] = TASKS[public]
    if task.late_chunking is not None:
        words = sum(len(_WORD.findall(text)) for text in request.input)
        body["late_chunking"] = task.late_chunking and words <= MAX_LATE_CHUNKING_WORDS
    if settings.dimensions_set_by_user and settings.dimensions is not None:
        body["dimensions"] = settings.dimensions
    return _ENCODER.encode(body)
