"""Hugging Face error bodies -> upstream errors (pure).

TEI answers ``{"error": "...", "error_type": "Validation" | "Tokenizer" | "Backend" |
"Overloaded" | "Unhealthy" | "Empty"}`` (422, 424, 429, 503, 400, 413 by type) and an empty
401 when its ``--api-key`` does not match; Inference Endpoints answer ``{"error": "..."}``
(Elasticsearch's ``HuggingFaceErrorResponseEntity``). Anything else is shown as its text.
"""

from __future__ import annotations

import msgspec

from inference_service.errors import UpstreamError
from inference_service.providers.http import upstream_reason, upstream_status


class _ErrorBody(msgspec.Struct):
    error: str
    error_type: str | None = None


_DECODER = msgspec.json.Decoder(_ErrorBody)


def parse_hugging_face_error(status: int, body: bytes, inference_id: str, url: str) -> UpstreamError:
    """A non-2xx answer -> an error keeping the provider's status, message and error type."""
    try:
        failure = _DECODER.decode(body)
    except msgspec.DecodeError:
        failure = _ErrorBody(error=body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}")
    return UpstreamError(
        upstream_reason(status, inference_id, url, failure.error),
        status=upstream_status(status),
        error_type=failure.error_type or "status_exception",
    )
