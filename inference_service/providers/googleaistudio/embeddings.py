"""Google AI Studio (Gemini API) embeddings: ``models/{model}:batchEmbedContents`` (pure).

Request, as Elasticsearch builds it (``GoogleAiStudioEmbeddingsRequestEntity``): one entry of
``requests`` per input, ``{"model": "models/{model_id}", "content": {"parts": [{"text": ...}]},
"outputDimensionality"?, "taskType"?}``. ``taskType`` is the input type: ``RETRIEVAL_DOCUMENT``
(ingest), ``RETRIEVAL_QUERY`` (search), ``CLASSIFICATION``, ``CLUSTERING``; the internal values
count as their REST twins, and no input type sends none. ``outputDimensionality`` is sent only
when the user chose ``dimensions`` (Elasticsearch sends back the stored value, which after the
validation call is just the model's own size; the legacy ``embedding-001`` model refuses the
field). Response: ``{"embeddings": [{"values": [...]}, ...]}``, in input order.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, InputType, TextEmbeddingResult

_ENCODER = msgspec.json.Encoder()

TASK_TYPES = {
    InputType.INGEST: "RETRIEVAL_DOCUMENT",
    InputType.SEARCH: "RETRIEVAL_QUERY",
    InputType.CLASSIFICATION: "CLASSIFICATION",
    InputType.CLUSTERING: "CLUSTERING",
}


class _Embedding(msgspec.Struct, gc=False):
    values: list[float]


class _EmbeddingsBody(msgspec.Struct):
    embeddings: list[_Embedding]


_DECODER = msgspec.json.Decoder(_EmbeddingsBody)


def google_task_type(input_type: InputType | None) -> str | None:
    return None if input_type is None else TASK_TYPES[input_type.public]


def to_google_ai_studio_embeddings_request(
    request: EmbeddingRequest, *, model_id: str, dimensions: int | None = None
) -> bytes:
    model = f"models/{model_id}"
    task_type = google_task_type(request.input_type)
    requests: list[dict[str, Any]] = []
    for text in request.input:
        entry: dict[str, Any] = {"model": model, "content": {"parts": [{"text": text}]}}
        if dimensions is not None:
            entry["outputDimensionality"] = dimensions
        if task_type is not None:
            entry["taskType"] = task_type
        requests.append(entry)
    return _ENCODER.encode({"requests": requests})


def parse_google_ai_studio_embeddings(raw: bytes, inference_id: str) -> TextEmbeddingResult:
    """The vectors in input order; any other body is a 502."""
    try:
        embeddings = _DECODER.decode(raw).embeddings
    except msgspec.DecodeError as exc:
        raise MalformedUpstreamError(
            f"The provider sent a malformed embeddings response for inference entity id "
            f"[{inference_id}]: {exc}"
        ) from None
    return TextEmbeddingResult(embeddings=[e.values for e in embeddings])
