"""Byte-exact Google AI Studio (Gemini API) ``batchEmbedContents`` answers.

Google's front ends answer pretty-printed JSON (2-space indent, a final newline) with
``content-type: application/json; charset=UTF-8``: ``{"embeddings": [{"values": [...]}, ...]}``,
and failures as ``{"error": {"code", "message", "status", "details"?}}`` (google.rpc.Status).
``tests/fixtures/json/googleaistudio_*.json`` are recorded answers; the builders here reproduce
them byte for byte (tested in ``tests/integration/fakes``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

JSON_HEADERS = (
    ("content-type", "application/json; charset=UTF-8"),
    ("vary", "Origin"),
    ("vary", "X-Origin"),
    ("vary", "Referer"),
    ("server", "scaffolding on HTTPServer2"),
    ("x-xss-protection", "0"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-content-type-options", "nosniff"),
)
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
}
STATUS_NAMES |= {500: "INTERNAL", 503: "UNAVAILABLE"}


def _pretty(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def embeddings(vectors: Sequence[Sequence[float]]) -> bytes:
    return _pretty({"embeddings": [{"values": list(v)} for v in vectors]})


def reply(vectors: Sequence[Sequence[float]]) -> Reply:
    return Reply.fixed(200, embeddings(vectors), JSON_HEADERS)


def error(code: int, message: str, details: Sequence[dict[str, Any]] = ()) -> bytes:
    status: dict[str, Any] = {"code": code, "message": message, "status": STATUS_NAMES[code]}
    if details:
        status["details"] = list(details)
    return _pretty({"error": status})


def error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def error_reply(code: int, message: str, details: Sequence[dict[str, Any]] = ()) -> Reply:
    return Reply.fixed(code, error(code, message, details), JSON_HEADERS)


def invalid_api_key() -> Reply:
    return error_reply(
        400, "API key not valid. Please pass a valid API key.", [error_info("API_KEY_INVALID")]
    )


def model_not_found(model_id: str) -> Reply:
    message = (
        f"models/{model_id} is not found for API version v1, or is not supported for embedContent. "
        "Call ListModels to see the list of available models and their supported methods."
    )
    return error_reply(404, message)
