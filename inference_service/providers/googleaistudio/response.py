"""Google API error bodies -> upstream errors (pure).

Every Google API answers a failure with ``{"error": {"code": 400, "message": "...",
"status": "INVALID_ARGUMENT", "details": [...]}}`` (google.rpc.Status); ``status`` becomes the
error's type and the ``reason`` of an ``ErrorInfo`` detail (``API_KEY_INVALID``…) its code.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import UpstreamError
from inference_service.providers.http import upstream_reason, upstream_status


class _Status(msgspec.Struct):
    message: str = ""
    status: str | None = None
    details: list[dict[str, Any]] = msgspec.field(default_factory=list)


class _ErrorBody(msgspec.Struct):
    error: _Status


_DECODER = msgspec.json.Decoder(_ErrorBody)


def parse_google_ai_studio_error(status: int, body: bytes, inference_id: str, url: str) -> UpstreamError:
    """A non-2xx answer -> an error keeping the provider's status, message and status name.

    ``url`` is the address without its ``?key=``; the caller has already cut the key out of
    ``body``."""
    try:
        failure = _DECODER.decode(body).error
    except msgspec.DecodeError:
        failure = _Status(message=body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}")
    reasons = [d["reason"] for d in failure.details if isinstance(d.get("reason"), str)]
    return UpstreamError(
        upstream_reason(status, inference_id, url, failure.message),
        status=upstream_status(status),
        error_type=failure.status or "status_exception",
        code=reasons[0] if reasons else None,
    )
