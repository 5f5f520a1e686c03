"""Byte-exact answers of the HTTP APIs the ``custom`` service is pointed at in tests.

Three non-OpenAI shapes, pretty-printed (2-space indent) as such APIs answer:

- a made-up embedding API, ``{"model": ..., "vectors": [[...], ...], "usage": {"tokens": n}}``
  (the example of the reference; parser path ``$.vectors[*]``);
- Cohere's v2 rerank, ``{"results": [{"index", "relevance_score", "document"?: {"text"}}],
  "id", "meta"}`` (paths ``$.results[*].relevance_score`` / ``.index`` / ``.document.text``) and
  its error body ``{"message": ...}``;
- an Alibaba-style sparse embedding API, ``{"request_id", "latency", "usage", "result":
  {"sparse_embeddings": [{"index", "embedding": [{"tokenId", "weight"}]}]}}`` (paths
  ``$.result.sparse_embeddings[*].embedding[*].tokenId`` / ``.weight``).

``tests/fixtures/json/custom_*.json`` are recorded answers; the builders reproduce them byte for
byte (``tests/integration/fakes/test_custom_transcripts.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

JSON_HEADERS = {"content-type": "application/json"}
MODEL = "tiny-embed"
RERANK_ID = "07734bd2-2473-4f07-94e1-0d9f0e6843cf"
REQUEST_ID = "75C50B5B-E79E-4930-8A1B-F48DBB392231"


def _pretty(body: Any) -> bytes:
    return json.dumps(body, indent=2).encode()


def vectors(embeddings: Sequence[Sequence[float]], *, model: str = MODEL, tokens: int = 6) -> bytes:
    """The made-up embedding API: one vector per input, in input order."""
    return _pretty({"model": model, "vectors": [list(v) for v in embeddings], "usage": {"tokens": tokens}})


def vectors_reply(embeddings: Sequence[Sequence[float]], **kwargs: Any) -> Reply:
    return Reply.json(200, vectors(embeddings, **kwargs), JSON_HEADERS)


def cohere_rerank(
    ranked: Sequence[tuple[int, float, str | None]], *, id: str = RERANK_ID, search_units: int = 1
) -> bytes:
    """Cohere's rerank answer: ``(index, relevance_score, text or None)`` best first."""
    results: list[dict[str, Any]] = []
    for index, score, text in ranked:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if text is not None:
            result["document"] = {"text": text}
        results.append(result)
    meta = {"api_version": {"version": "2"}, "billed_units": {"search_units": search_units}}
    return _pretty({"results": results, "id": id, "meta": meta})


def cohere_rerank_reply(ranked: Sequence[tuple[int, float, str | None]], **kwargs: Any) -> Reply:
    return Reply.json(200, cohere_rerank(ranked, **kwargs), JSON_HEADERS)


def cohere_error(status: int, message: str) -> Reply:
    """Cohere's error body: ``{"message": ...}``."""
    return Reply.json(status, {"message": message}, JSON_HEADERS)


def sparse(
    embeddings: Sequence[Sequence[tuple[int, float]]], *, request_id: str = REQUEST_ID, latency: int = 22
) -> bytes:
    """The Alibaba-style sparse answer: per input a list of ``(token id, weight)``."""
    items = [
        {"index": i, "embedding": [{"tokenId": token, "weight": weight} for token, weight in embedding]}
        for i, embedding in enumerate(embeddings)
    ]
    count = sum(len(e) for e in embeddings) + 9
    return _pretty(
        {
            "request_id": request_id,
            "latency": latency,
            "usage": {"token_count": count},
            "result": {"sparse_embeddings": items},
        }
    )


def sparse_reply(embeddings: Sequence[Sequence[tuple[int, float]]], **kwargs: Any) -> Reply:
    return Reply.json(200, sparse(embeddings, **kwargs), JSON_HEADERS)


def vectors_for(count: int, dims: int = 3, start: int = 0) -> list[list[float]]:
    """Distinct vectors: input ``i`` becomes ``[i + 0.5, i + 0.25, ...]``."""
    return [[i + 1 / (2 ** (d + 1)) for d in range(dims)] for i in range(start, start + count)]
