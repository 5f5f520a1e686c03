"""What the service asks a provider to rerank, and what comes back.

The provider contract's types for ``rerank``; each API face renders them in its own format.
"""

from __future__ import annotations

import msgspec


class RerankRequest(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    input: list[str]
    top_n: int | None = None
    return_documents: bool | None = None


class RankedDocument(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    """Position of the document in the request's ``input``."""
    relevance_score: float
    text: str | None = None


class RerankResult(msgspec.Struct, frozen=True, kw_only=True):
    """Documents by relevance, best first."""

    ranked: list[RankedDocument]
