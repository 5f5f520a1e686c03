"""Elasticsearch ``TimeValue`` strings (``500ms``, ``30s``, ``2m``) -> seconds."""

from __future__ import annotations

import re

from inference_service.errors import ParseError

_UNITS = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"(\d+)(nanos|micros|ms|s|m|h|d)")


def parse_time_value(value: str, setting: str = "timeout") -> float | None:
    """Seconds, or None for ``0``/``-1`` ("not set": use the default). Fractions are rejected."""
    text = value.strip().lower()
    if text in ("0", "-1"):
        return None
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise ParseError(
            f"failed to parse setting [{setting}] with value [{value}] as a time value: "
            "unit is missing or unrecognized"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    return seconds or None
