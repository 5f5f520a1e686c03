"""Waiting for something another thread or process does a moment after the test's own call
(a notified change, a line logged after the last byte): poll, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], within: float = 15.0, every: float = 0.05) -> bool:
    """Whether ``check()`` became true within ``within`` seconds (checked once more at the end)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()
