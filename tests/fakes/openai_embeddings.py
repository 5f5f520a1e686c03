"""Byte-exact OpenAI Embeddings (``POST /v1/embeddings``) responses.

The API answers pretty-printed JSON (2-space indent): ``{"object": "list", "data": [{"object":
"embedding", "index": i, "embedding": [...]}, ...], "model": ..., "usage": {...}}``;
``tests/fixtures/json/openai_embeddings.json`` is a recorded answer and :func:`embeddings`
reproduces it byte for byte (tested in ``tests/integration/fakes``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.fakes.openai import JSON_HEADERS
from tests.fakes.server import Reply

MODEL = "text-embedding-3-small"


def embeddings(
    vectors: Sequence[Sequence[float]],
    *,
    model: str = MODEL,
    prompt_tokens: int = 8,
    order: Sequence[int] | None = None,
) -> bytes:
    """The answer for ``vectors`` (one per input); ``order`` lists the indexes in the order the
    API happens to send them (it may differ from input order)."""
    indexes = list(order) if order is not None else list(range(len(vectors)))
    body: dict[str, Any] = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": list(vectors[i])} for i in indexes],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
    return json.dumps(body, indent=2).encode()


def reply(vectors: Sequence[Sequence[float]], **kwargs: Any) -> Reply:
    return Reply.json(200, embeddings(vectors, **kwargs), JSON_HEADERS)
