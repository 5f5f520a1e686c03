"""Byte-exact Mistral embeddings answers (``POST https://api.mistral.ai/v1/embeddings``).

Mistral answers compact JSON: ``{"id": ..., "object": "list", "data": [{"object":
"embedding", "embedding": [...], "index": i}], "model": ..., "usage": {"prompt_tokens",
"total_tokens", "completion_tokens"}}``. Failures come in the shapes Elasticsearch's
``MistralErrorResponse`` documents: ``{"message": "Unauthorized", "request_id"}`` (401),
``{"object": "error", "message": ..., "type", "param", "code"}`` (400; for 422 ``message``
holds ``{"detail": [...]}``) and ``{"detail": "Not Found"}`` (404).
``tests/fixtures/json/mistral_*.json`` are recorded answers; the builders here reproduce them
byte for byte (tested in ``tests/integration/fakes``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

MODEL = "mistral-embed"
ID = "cf79f7daaee244b1a0ae5c7b1444424a"
JSON_HEADERS = (
    ("content-type", "application/json"),
    ("mistral-correlation-id", "01963d5e-7a4b-7c3e-9a1f-0c2b3d4e5f60"),
    ("x-ratelimitbysize-remaining-minute", "499980"),
)


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def embeddings(vectors: Sequence[Sequence[float]], *, model: str = MODEL, prompt_tokens: int = 6) -> bytes:
    return _compact(
        {
            "id": ID,
            "object": "list",
            "data": [
                {"object": "embedding", "embedding": list(v), "index": i} for i, v in enumerate(vectors)
            ],
            "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens, "completion_tokens": 0},
        }
    )


def reply(vectors: Sequence[Sequence[float]], **kwargs: Any) -> Reply:
    return Reply.fixed(200, embeddings(vectors, **kwargs), JSON_HEADERS)


def _error_reply(status: int, body: Any) -> Reply:
    return Reply.fixed(status, _compact(body), (("content-type", "application/json"),))


def unauthorized() -> Reply:
    return _error_reply(401, {"message": "Unauthorized", "request_id": "ad95a2165083f20b490f8f78a14bb104"})


def invalid_model(model: str) -> Reply:
    body = {"object": "error", "message": f"Invalid model: {model}", "type": "invalid_model", "param": None}
    return _error_reply(400, {**body, "code": "1500"})


def validation_error(loc: Sequence[str | int], msg: str, kind: str = "missing") -> Reply:
    detail = [{"type": kind, "loc": list(loc), "msg": msg, "input": None}]
    body = {"object": "error", "message": {"detail": detail}, "type": "invalid_request_error", "param": None}
    return _error_reply(422, {**body, "code": None})


def not_found() -> Reply:
    return _error_reply(404, {"detail": "Not Found"})


def rate_limited() -> Reply:
    return _error_reply(429, {"message": "Requests rate limit exceeded"})
