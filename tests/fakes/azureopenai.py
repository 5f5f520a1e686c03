"""Byte-exact Azure OpenAI embeddings answers (``POST .../deployments/{id}/embeddings``).

Azure answers compact JSON in OpenAI's shape, ``{"object": "list", "data": [{"object":
"embedding", "index": i, "embedding": [...]}], "model": ..., "usage": {...}}`` (``model`` is
the model behind the deployment), and failures as ``{"error": {"code": "...", "message":
"..."}}`` without OpenAI's ``type``. ``tests/fixtures/json/azureopenai_*.json`` are recorded
answers; the builders here reproduce them byte for byte (tested in ``tests/integration/fakes``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

MODEL = "text-embedding-3-small"
JSON_HEADERS = (
    ("content-type", "application/json"),
    ("apim-request-id", "5d1c7a5e-0c1e-4f0e-9d8b-2f7f0b1c2d3e"),
    ("x-ms-region", "West Europe"),
    ("x-ratelimit-remaining-requests", "1439"),
    ("x-ratelimit-remaining-tokens", "349992"),
)
UNAUTHORIZED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within the last 5 "
    "minutes, please wait a moment and try again."
)


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def embeddings(
    vectors: Sequence[Sequence[float]], *, model: str = MODEL, order: Sequence[int] | None = None
) -> bytes:
    indexes = list(order) if order is not None else list(range(len(vectors)))
    return _compact(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": list(vectors[i])} for i in indexes],
            "model": model,
            "usage": {"prompt_tokens": 2 * len(vectors), "total_tokens": 2 * len(vectors)},
        }
    )


def reply(vectors: Sequence[Sequence[float]], **kwargs: Any) -> Reply:
    return Reply.fixed(200, embeddings(vectors, **kwargs), JSON_HEADERS)


def error(code: str, message: str) -> bytes:
    return _compact({"error": {"code": code, "message": message}})


def error_reply(status: int, code: str, message: str) -> Reply:
    return Reply.fixed(status, error(code, message), (("content-type", "application/json"),))


def unauthorized() -> Reply:
    return error_reply(401, "401", UNAUTHORIZED)


def deployment_not_found() -> Reply:
    return error_reply(404, "DeploymentNotFound", DEPLOYMENT_NOT_FOUND)
