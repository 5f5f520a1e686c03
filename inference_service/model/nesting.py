"""How deeply a decoded JSON value nests, measured without recursion.

Values nested thousands of levels deep decode fine up to msgspec's limit but then break any
recursive step after decoding (re-encoding, rendering, storing) with a ``RecursionError``. The
decoder and the request rules refuse them up front with a 400 instead.
"""

from __future__ import annotations

from typing import Any

MAX_NESTING = 64
"""Arrays and objects inside each other; no endpoint setting or tool schema needs more."""


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` has more than ``limit`` levels of lists/dicts (iterative, stops early)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
