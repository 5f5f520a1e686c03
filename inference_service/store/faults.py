"""Telling "the database is unreachable" from other errors, and keeping its log readable.

Why: with the database down, the service keeps serving inference (the catalog and the API
keys are in memory) and management calls must answer 503 with a reason instead of a 500 with
a traceback. What a lost database raises depends on where it is lost: SQLAlchemy wraps a
connection broken mid-query (``OperationalError``/``InterfaceError``, ``connection_invalidated``),
but asyncpg's connect failures (``ConnectionRefusedError``, ``TimeoutError``, other
``OSError``) come through unwrapped. :func:`is_database_fault` recognizes both; an ``OSError``
counts only when it was raised inside the database layer (SQLAlchemy or a driver), so a
provider's or a file's ``OSError`` is still the unexpected error it is.

The revision poll (:mod:`inference_service.refresh`) logs every failed read, every
``catalog_refresh_interval`` (0.5 s): :func:`quiet_repeated_failures` lets the first one through
and then one per :data:`REPEAT_WINDOW_S`, with the number held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, OSError)
"""The exception types to examine with :func:`is_database_fault`."""

_DATABASE_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.", "sqlite3.")

REPEAT_WINDOW_S = 60.0


def is_database_fault(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached (down, refused, timed out)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    if not isinstance(exc, OSError):
        return False
    traceback = exc.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DATABASE_MODULES):
            return True
        traceback = traceback.tb_next
    return False


class RepeatedFailureFilter(logging.Filter):
    """Passes the first record of each message, then at most one per ``window`` seconds; the
    next one passed says how many were held back (nothing is dropped without a count)."""

    def __init__(self, window: float = REPEAT_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._window = window
        self._clock = clock
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self._window:
            self._seen[key] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            record.msg = f"{key} (and {seen[1]} times more in the last {self._window:g}s)"
        self._seen[key] = (now, 0)
        return True


def quiet_repeated_failures(logger_name: str) -> None:
    """Rate-limit ``logger_name``'s repeated messages (once per process)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, RepeatedFailureFilter) for existing in logger.filters):
        logger.addFilter(RepeatedFailureFilter())
