"""What the service asks a provider to embed, and what comes back (dense and sparse).

These are the provider contract's types for ``text_embedding`` and ``sparse_embedding``; each
API face renders them in its own wire format.
"""

from __future__ import annotations

import msgspec


class EmbeddingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Texts to embed, in order; ``input_type`` is Elasticsearch's ingest/search/... hint."""

    input: list[str]
    input_type: str | None = None


class TextEmbeddingResult(msgspec.Struct, frozen=True, kw_only=True):
    """One dense vector per input, in input order."""

    embeddings: list[list[float]]


class SparseEmbedding(msgspec.Struct, frozen=True, kw_only=True):
    embedding: dict[str, float]
    """Token -> weight."""
    is_truncated: bool = False


class SparseEmbeddingResult(msgspec.Struct, frozen=True, kw_only=True):
    """One sparse vector per input, in input order."""

    embeddings: list[SparseEmbedding]
