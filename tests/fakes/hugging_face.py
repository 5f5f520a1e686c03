"""Byte-exact Text Embeddings Inference (TEI) answers, the server behind ``hugging_face``.

TEI (``router/src/http/server.rs``, ``types.rs``) answers compact JSON (axum's ``Json``, no
trailing newline):

- ``POST /embed``: ``[[f32, ...], ...]``, one vector per input;
- ``POST /rerank``: ``[{"index": i, "text"?: ..., "score": f32}, ...]``, best first, ``text``
  only with ``return_text``;
- errors: ``{"error": "...", "error_type": "Validation"}`` with the status of the type
  (:data:`STATUS`), and an empty 401 when the ``--api-key`` bearer token does not match.

Successful answers carry TEI's ``x-compute-*`` / ``x-*-time`` headers. The recorded answers are
``tests/fixtures/json/hugging_face_*.json``; the builders here reproduce them byte for byte
(tested in ``tests/integration/fakes``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.fakes.server import Reply

JSON_HEADERS = (
    ("content-type", "application/json"),
    ("x-compute-type", "gpu+optimized"),
    ("x-compute-time", "3"),
    ("x-compute-characters", "46"),
    ("x-compute-tokens", "14"),
    ("x-total-time", "3"),
    ("x-tokenization-time", "0"),
    ("x-queue-time", "0"),
    ("x-inference-time", "2"),
)
STATUS = {
    "Validation": 422,
    "Tokenizer": 422,
    "Backend": 424,
    "Overloaded": 429,
    "Unhealthy": 503,
    "Empty": 400,
}
"""TEI's status per ``error_type``."""


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def embeddings(vectors: Sequence[Sequence[float]]) -> bytes:
    return _compact([list(v) for v in vectors])


def embeddings_reply(vectors: Sequence[Sequence[float]]) -> Reply:
    return Reply.fixed(200, embeddings(vectors), JSON_HEADERS)


def rank(index: int, score: float, text: str | None = None) -> dict[str, Any]:
    """One rank in TEI's field order (``text`` left out when not asked for)."""
    entry: dict[str, Any] = {"index": index}
    if text is not None:
        entry["text"] = text
    entry["score"] = score
    return entry


def rerank(ranks: Sequence[dict[str, Any]]) -> bytes:
    return _compact(list(ranks))


def rerank_reply(ranks: Sequence[dict[str, Any]]) -> Reply:
    return Reply.fixed(200, rerank(ranks), JSON_HEADERS)


def scores_for(texts: Sequence[str], scores: Sequence[float], *, return_text: bool = False) -> Reply:
    """TEI's answer for ``texts`` scored ``scores``: best first, as TEI sorts them."""
    order = sorted(range(len(texts)), key=lambda i: scores[i], reverse=True)
    return rerank_reply([rank(i, scores[i], texts[i] if return_text else None) for i in order])


def error(message: str, error_type: str) -> bytes:
    return _compact({"error": message, "error_type": error_type})


def error_reply(message: str, error_type: str) -> Reply:
    return Reply.fixed(
        STATUS[error_type], error(message, error_type), (("content-type", "application/json"),)
    )


def unauthorized() -> Reply:
    """TEI's answer to a wrong or missing ``--api-key`` token: a bare 401."""
    return Reply.fixed(401, b"")
