"""Elasticsearch's chunking settings of embedding endpoints: defaults and per-strategy rules."""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.providers.schema import PositiveInt, SettingsStruct

DEFAULT_CHUNKING: dict[str, Any] = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
"""What an embedding endpoint gets when its PUT body has no ``chunking_settings``."""


class ChunkingSettings(SettingsStruct):
    strategy: str = "sentence"
    max_chunk_size: PositiveInt | None = None
    sentence_overlap: int | None = None
    overlap: int | None = None
    separators: list[str] | None = None
    separator_group: str | None = None


CHUNKING_FIELDS = frozenset(f.name for f in msgspec.structs.fields(ChunkingSettings))


def chunking_problems(c: ChunkingSettings) -> list[str]:
    """The per-strategy rules of Elasticsearch's chunking settings."""
    size = c.max_chunk_size
    if c.strategy == "sentence":
        out = [] if size is None or size >= 20 else ["[max_chunk_size] must be at least 20"]
        if c.sentence_overlap not in (None, 0, 1):
            out.append("[sentence_overlap] must be 0 or 1")
        return out
    if c.strategy == "word":
        out = [] if size is None or size >= 10 else ["[max_chunk_size] must be at least 10"]
        overlap = c.overlap if c.overlap is not None else 100
        if size is not None and overlap > size // 2:
            out.append("[overlap] must be at most half of [max_chunk_size]")
        return out
    if c.strategy == "none":
        return []
    if c.strategy == "recursive":
        out = [] if size is not None else ["does not contain the required setting [max_chunk_size]"]
        if (c.separators is None) == (c.separator_group is None):
            out.append("exactly one of [separators] or [separator_group] is required")
        if c.separator_group not in (None, "markdown", "plaintext"):
            out.append("[separator_group] must be one of [markdown, plaintext]")
        return out
    return [f"Invalid value [{c.strategy}] for [strategy]; must be one of [sentence, word, none, recursive]"]
