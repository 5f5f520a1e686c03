"""Voyage AI embeddings and rerank answers, in the API's documented shape.

Embeddings (``POST /v1/embeddings``): ``{"object": "list", "data": [{"object": "embedding",
"embedding", "index"}], "model", "usage": {"total_tokens"}}`` (``int8``/``binary`` vectors as
signed bytes). Rerank (``POST /v1/rerank``): ``{"object": "list", "data": [{"relevance_score",
"index", "document"?}], "model", "usage"}``, best first, ``document`` a plain string. Errors:
``{"detail": "..."}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

EMBED_MODEL = "voyage-3"
RERANK_MODEL = "rerank-2"


def embed_reply(vectors: Sequence[Sequence[float]], *, model: str = EMBED_MODEL) -> Reply:
    body = {
        "object": "list",
        "data": [{"object": "embedding", "embedding": list(v), "index": i} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"total_tokens": 10},
    }
    return Reply.json(200, body)


def rerank_reply(ranked: Sequence[tuple[int, float]], documents: Sequence[str] | None = None) -> Reply:
    data: list[dict[str, Any]] = []
    for index, score in ranked:
        entry: dict[str, Any] = {"relevance_score": score, "index": index}
        if documents is not None:
            entry["document"] = documents[index]
        data.append(entry)
    body = {"object": "list", "data": data, "model": RERANK_MODEL, "usage": {"total_tokens": 26}}
    return Reply.json(200, body)


def error_reply(status: int, detail: str) -> Reply:
    return Reply.json(status, {"detail": detail})
