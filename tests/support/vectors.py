"""Vectors of a result as plain numbers, whether a provider kept them as JSON or not."""

from __future__ import annotations

from inference_service.model.embedding import JsonVector, TextEmbeddingResult


def values(result: TextEmbeddingResult) -> list[list[float]]:
    return [v.values() if isinstance(v, JsonVector) else list(v) for v in result.embeddings]
