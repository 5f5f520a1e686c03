"""Jina AI embeddings and rerank answers, in the API's documented shape.

Embeddings (``POST /v1/embeddings``): ``{"model", "object": "list", "usage", "data":
[{"object": "embedding", "index", "embedding"}]}`` (``binary`` vectors as signed bytes). Rerank
(``POST /v1/rerank``): ``{"model", "usage", "results": [{"index", "document"?: {"text"},
"relevance_score"}]}``, best first. Errors: ``{"detail": "..."}`` (a list of problems for a
422).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

EMBED_MODEL = "jina-embeddings-v3"
RERANK_MODEL = "jina-reranker-v2-base-multilingual"


def embed_reply(vectors: Sequence[Sequence[float]], *, model: str = EMBED_MODEL) -> Reply:
    body = {
        "model": model,
        "object": "list",
        "usage": {"total_tokens": 8, "prompt_tokens": 8},
        "data": [{"object": "embedding", "index": i, "embedding": list(v)} for i, v in enumerate(vectors)],
    }
    return Reply.json(200, body)


def rerank_reply(ranked: Sequence[tuple[int, float]], documents: Sequence[str] | None = None) -> Reply:
    results: list[dict[str, Any]] = []
    for index, score in ranked:
        result: dict[str, Any] = {"index": index}
        if documents is not None:
            result["document"] = {"text": documents[index]}
        result["relevance_score"] = score
        results.append(result)
    return Reply.json(200, {"model": RERANK_MODEL, "usage": {"total_tokens": 15}, "results": results})


def error_reply(status: int, detail: Any) -> Reply:
    return Reply.json(status, {"detail": detail})
