"""Cohere v2 embed and rerank answers, in the API's documented shape.

Embed (``POST /v2/embed``): ``{"id", "embeddings": {"<type>": [[...], ...]}, "texts", "meta",
"response_type": "embeddings_by_type"}``, one vector per text in input order. Rerank (``POST
/v2/rerank``): ``{"results": [{"index", "relevance_score", "document"?: {"text"}}], "id",
"meta"}``, best first. Errors: ``{"message": "..."}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

EMBED_MODEL = "embed-english-v3.0"
RERANK_MODEL = "rerank-v3.5"
ANSWER_ID = "da6e531f-54c6-4a73-bf92-f60566d8d753"


def embed_reply(
    vectors: Sequence[Sequence[float]], *, embedding_type: str = "float", texts: Sequence[str] = ()
) -> Reply:
    """The answer carrying ``vectors`` as ``embedding_type`` (``float``, ``int8``, ``binary``)."""
    body: dict[str, Any] = {
        "id": ANSWER_ID,
        "embeddings": {embedding_type: [list(v) for v in vectors]},
        "texts": list(texts),
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 2}},
        "response_type": "embeddings_by_type",
    }
    return Reply.json(200, body)


def rerank_reply(ranked: Sequence[tuple[int, float]], documents: Sequence[str] | None = None) -> Reply:
    """``ranked`` as (index, score) pairs in the order sent; ``documents`` adds each one's text."""
    results: list[dict[str, Any]] = []
    for index, score in ranked:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if documents is not None:
            result["document"] = {"text": documents[index]}
        results.append(result)
    body = {
        "results": results,
        "id": ANSWER_ID,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
    }
    return Reply.json(200, body)


def error_reply(status: int, message: str) -> Reply:
    return Reply.json(status, {"message": message})
