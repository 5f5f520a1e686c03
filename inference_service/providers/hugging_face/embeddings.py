"""Hugging Face embeddings (Text Embeddings Inference's ``POST /embed``) (pure).

Request: ``{"inputs": [...]}``, as Elasticsearch sends it; TEI's own options (``normalize``,
default true, ``truncate``, ``truncation_direction``, ``prompt_name``, ``dimensions``) are left
to the server's defaults, as Elasticsearch leaves them. Response: one vector per input, in
input order, either TEI's bare ``[[...], ...]`` or ``{"embeddings": [[...], ...]}`` (some
Inference Endpoints handlers), the two formats Elasticsearch reads.

The service has no notion of input type: a REST ``input_type`` is refused with Elasticsearch's
400 and the internal values (semantic_text, the PUT validation call) send nothing.
"""

from __future__ import annotations

import msgspec

from inference_service.errors import MalformedUpstreamError
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult, refuse_rest_input_type

_ENCODER = msgspec.json.Encoder()


class _EmbeddingsRequest(msgspec.Struct):
    inputs: list[str]


class _EmbeddingsObject(msgspec.Struct):
    embeddings: list[list[float]]


_DECODER = msgspec.json.Decoder(list[list[float]] | _EmbeddingsObject)


def to_hugging_face_embeddings_request(request: EmbeddingRequest) -> bytes:
    refuse_rest_input_type(request.input_type)
    return _ENCODER.encode(_EmbeddingsRequest(inputs=request.input))


def parse_hugging_face_embeddings(raw: bytes, inference_id: str) -> TextEmbeddingResult:
    """The vectors in input order; any other body is a 502."""
    try:
        decoded = _DECODER.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedUpstreamError(
            f"The provider sent a malformed embeddings response for inference entity id "
            f"[{inference_id}]: {exc}"
        ) from None
    vectors = decoded.embeddings if isinstance(decoded, _EmbeddingsObject) else decoded
    return TextEmbeddingResult(embeddings=vectors)
