"""Elasticsearch's chunking settings of embedding endpoints: defaults and per-strategy rules.

The rules and messages are Elasticsearch's (``*ChunkingSettings.java``):

- ``strategy`` is required once chunking settings are given (the default object is
  :data:`DEFAULT_CHUNKING`);
- ``sentence``: ``max_chunk_size`` required, at least 20; ``sentence_overlap`` 0 or 1;
- ``word``: ``max_chunk_size`` required, at least 10; ``overlap`` required, at least 0 and at
  most half of ``max_chunk_size``;
- ``recursive``: ``max_chunk_size`` required, at least 10; exactly one of ``separators`` (1 to
  50 entries) or ``separator_group`` (``plaintext`` | ``markdown``; kept as given rather than
  expanded into its separators as Elasticsearch stores it);
- ``none``: nothing else;
- each strategy refuses the keys of the others.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.providers.schema import SettingsStruct

DEFAULT_CHUNKING: dict[str, Any] = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
"""What an embedding endpoint gets when its PUT body has no ``chunking_settings``."""

NO_STRATEGY = "Can't generate Chunker without ChunkingStrategy provided"
MAX_SEPARATORS = 50


class ChunkingSettings(SettingsStruct):
    strategy: str
    max_chunk_size: int | None = None
    sentence_overlap: int | None = None
    overlap: int | None = None
    separators: list[str] | None = None
    separator_group: str | None = None


CHUNKING_FIELDS = frozenset(f.name for f in msgspec.structs.fields(ChunkingSettings))
_ALLOWED = {
    "sentence": {"max_chunk_size", "sentence_overlap"},
    "word": {"max_chunk_size", "overlap"},
    "recursive": {"max_chunk_size", "separators", "separator_group"},
    "none": set(),
}
_NAMES = {"sentence": "Sentence based", "word": "Word based", "recursive": "Recursive"}


def chunking_problems(c: ChunkingSettings) -> list[str]:
    """Every rule ``c`` breaks, in Elasticsearch's words."""
    allowed = _ALLOWED.get(c.strategy)
    if allowed is None:
        return [
            f"Invalid value [{c.strategy}] for [strategy]; must be one of [sentence, word, none, recursive]"
        ]
    given = {name for name in CHUNKING_FIELDS - {"strategy"} if getattr(c, name) is not None}
    extra = sorted(given - allowed)
    if extra:
        if c.strategy == "none":
            return [
                f"When chunking is disabled (none), settings can not have the following: [{', '.join(extra)}]"
            ]
        listed = ", ".join(extra)
        return [f"{_NAMES[c.strategy]} chunking settings can not have the following settings: [{listed}]"]
    if c.strategy == "none":
        return []
    problems = _size_problems(
        c.max_chunk_size, 20 if c.strategy == "sentence" else 10, c.strategy == "sentence"
    )
    if c.strategy == "sentence" and c.sentence_overlap not in (None, 0, 1):
        problems.append(f"sentence_overlap[{c.sentence_overlap}] must be either 0 or 1")
    if c.strategy == "word":
        problems += _overlap_problems(c.overlap, c.max_chunk_size)
    if c.strategy == "recursive":
        problems += _separator_problems(c)
    return problems


def _size_problems(size: int | None, minimum: int, compact: bool) -> list[str]:
    if size is None:
        return ["does not contain the required setting [max_chunk_size]"]
    if size < minimum:
        # Elasticsearch words the sentence limit without a space: "max_chunk_size[15]".
        return [f"max_chunk_size{'' if compact else ' '}[{size}] must be above {minimum}"]
    return []


def _overlap_problems(overlap: int | None, size: int | None) -> list[str]:
    if overlap is None:
        return ["does not contain the required setting [overlap]"]
    if overlap < 0:
        return [f"overlap[{overlap}] must be at least 0"]
    if size is not None and overlap > size // 2:
        return [f"overlap[{overlap}] must be less than or equal to half of max chunk size"]
    return []


def _separator_problems(c: ChunkingSettings) -> list[str]:
    if c.separators is not None and c.separator_group is not None:
        return ["Recursive chunking settings can not have both separators and separator_set"]
    if c.separators is None and c.separator_group is None:
        return ["exactly one of [separators] or [separator_group] is required"]
    if c.separators is not None:
        if not c.separators:
            return ["Recursive chunking settings can not have an empty list of separators"]
        if len(c.separators) > MAX_SEPARATORS:
            return [f"separators list size [{len(c.separators)}] must not exceed [{MAX_SEPARATORS}]"]
    if c.separator_group not in (None, "markdown", "plaintext"):
        return [f"Invalid separator_group [{c.separator_group}]; must be one of [plaintext, markdown]"]
    return []
