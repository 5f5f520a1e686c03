"""Vectors taken from a provider's JSON answer without turning each number into a Python float.

A provider's embeddings decode as ``msgspec.Raw`` slices of its answer: msgspec has checked
that they are well-formed JSON. :func:`json_vector` then checks, with byte scans only, that a
slice is one flat array of numbers — no string, object, nested array, ``true``, ``false`` or
``null`` (the letters ``u`` and ``a`` catch all three literals; ``e``/``E`` are the only
letters a number has) — and counts its elements.
"""

from __future__ import annotations

import msgspec

from inference_service.model.embedding import JsonVector


def json_vector(raw: msgspec.Raw) -> JsonVector | None:
    """``raw`` as a checked vector, or None when it is not a flat JSON array of numbers."""
    data = bytes(raw)
    if not data.startswith(b"[") or data.find(b"[", 1) != -1:
        return None
    if b'"' in data or b"{" in data or b"u" in data or b"a" in data:
        return None
    inner = data[1:-1].strip()
    return JsonVector(raw, inner.count(b",") + 1 if inner else 0)
