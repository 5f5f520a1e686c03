"""Building blocks for provider settings Structs, shared by every provider's ``settings.py``.

A provider declares its settings as msgspec Structs inheriting :class:`SettingsStruct`.
Field types carry their constraints (``msgspec.Meta``); :data:`Url` marks a field that must
hold an absolute http(s) URL; a secret lives in the provider's ``Secrets`` Struct and nowhere
else. :mod:`inference_service.providers.config` walks these Structs to produce
Elasticsearch's validation messages.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

URL_MARKER = "url"

Url = Annotated[str, msgspec.Meta(extra={URL_MARKER: True})]
"""A string that must be an absolute ``http``/``https`` URL."""

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]


class SettingsStruct(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of all provider settings.

    ``forbid_unknown_fields``: an unknown key is a user mistake, never ignored.
    ``omit_defaults``: the stored/returned JSON carries only what was set or materialised.
    """


class RateLimit(SettingsStruct):
    requests_per_minute: PositiveInt


class ChunkingSettings(SettingsStruct):
    """Elasticsearch's chunking settings for embedding endpoints (reference §2.2)."""

    strategy: str = "sentence"
    max_chunk_size: PositiveInt | None = None
    sentence_overlap: int | None = None
    overlap: int | None = None
    separators: list[str] | None = None
    separator_group: str | None = None


DEFAULT_CHUNKING = {"strategy": "sentence", "max_chunk_size": 250, "sentence_overlap": 1}
