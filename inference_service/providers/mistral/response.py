"""Mistral error bodies -> upstream errors (pure).

Mistral's API answers failures in several shapes (Elasticsearch's ``MistralErrorResponse``
lists them): ``{"object": "error", "message": "...", "type", "param", "code"}`` (400),
``{"message": "Unauthorized", "request_id": "..."}`` (401), ``{"detail": "Not Found"}`` (404)
and, for a body that fails validation (422), ``message`` holding ``{"detail": [{"loc": [...],
"msg": "...", ...}]}``. OpenAI's ``{"error": {...}}`` is read too; anything else is shown as
its text.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import UpstreamError
from inference_service.providers.http import upstream_reason, upstream_status
from inference_service.providers.openai.response import OpenAiError


class _MistralError(msgspec.Struct):
    message: str | dict[str, Any] | None = None
    detail: str | list[Any] | None = None
    type: str | None = None
    param: str | None = None
    code: str | int | None = None
    error: OpenAiError | None = None


_DECODER = msgspec.json.Decoder(_MistralError)


def _details(detail: Any) -> str | None:
    """FastAPI's ``detail``: a string, or a list of ``{"loc": [...], "msg": ...}``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                loc = ".".join(str(p) for p in item.get("loc") or [])
                parts.append(f"{loc}: {item['msg']}" if loc else item["msg"])
        return "; ".join(parts) or None
    return None


def _message(message: str | dict[str, Any] | None) -> str | None:
    """``message``: the text, or the validation failure it holds."""
    if isinstance(message, dict):
        return _details(message.get("detail"))
    return message


def parse_mistral_error(status: int, body: bytes, inference_id: str, url: str) -> UpstreamError:
    """A non-2xx answer -> an error keeping the provider's status, message, type and code."""
    text = body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}"
    try:
        failure = _DECODER.decode(body)
    except msgspec.DecodeError:
        failure = _MistralError()
    message: str | None
    if failure.error is not None:
        message, error_type, code, param = (
            failure.error.message,
            failure.error.type,
            failure.error.code,
            failure.error.param,
        )
    else:
        message = _message(failure.message) or _details(failure.detail)
        error_type, code, param = failure.type, failure.code, failure.param
    return UpstreamError(
        upstream_reason(status, inference_id, url, message or text),
        status=upstream_status(status),
        error_type=error_type or "status_exception",
        code=None if code is None else str(code),
        param=param,
    )
