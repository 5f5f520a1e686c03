"""On PostgreSQL, changes reach every worker at once: :class:`RevisionListener`.

Every endpoint or API key change sends ``NOTIFY`` in its own transaction
(:func:`inference_service.store.revisions.changed`). Each worker holds one connection of its own
(outside the engine's pool, so it never takes a slot requests need) that ``LISTEN``\\ s on the
channel through asyncpg's ``add_listener``; a notification wakes the
:class:`~inference_service.refresh.RevisionWatcher`, which reads the counters and reloads what
moved, exactly as its poll does. So a change made on one node is served by every node within a
round trip, and the poll (``catalog_refresh_interval``) is only the fallback.

A lost connection is noticed when asyncpg reports it closed, or at the latest by a ``SELECT 1``
every :data:`PING_EVERY_S`; the listener then reconnects with backoff (logging the loss and,
at most once a minute, the failures), and wakes the watcher once it listens again: whatever
changed while it was not listening is picked up then, if the poll has not already.
SQLite has no notifications: there the poll alone keeps the workers in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from inference_service.store.revisions import CHANNEL

log = logging.getLogger("inference_service.refresh")

CONNECT_TIMEOUT_S = 5.0
PING_EVERY_S = 15.0
PING_TIMEOUT_S = 5.0
RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 10.0
WARN_EVERY_S = 60.0

APPLICATION_NAME = "inference-service revision listener"
"""How the listener's connection shows in ``pg_stat_activity``."""
_SQLALCHEMY_ONLY = ("async_creator_fn", "prepared_statement_cache_size", "prepared_statement_name_func")
"""Connect arguments SQLAlchemy's asyncpg dialect takes for itself (not asyncpg's)."""


def listens(engine: AsyncEngine) -> bool:
    """Whether the database can notify (PostgreSQL through asyncpg)."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg"


def connect_arguments(engine: AsyncEngine) -> dict[str, Any]:
    """``asyncpg.connect`` keyword arguments for the engine's URL, as SQLAlchemy would pass them
    (host, port, user, password, database and the URL's query options such as ``ssl``), named
    :data:`APPLICATION_NAME` unless the URL names it."""
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    options = dict(kwargs)
    for name in _SQLALCHEMY_ONLY:
        options.pop(name, None)
    server_settings = dict(options.get("server_settings") or {})
    server_settings.setdefault("application_name", APPLICATION_NAME)
    options["server_settings"] = server_settings
    return options


class RevisionListener:
    """Calls ``wake`` on every notification of a revision change, and after each (re)connect."""

    def __init__(self, connect_args: dict[str, Any], wake: Callable[[], None]) -> None:
        self._connect_args = connect_args
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        """Set while the connection listens (tests and health checks may look)."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="revision-listener")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _notified(self, _connection: object, _pid: int, _channel: str, _payload: str) -> None:
        self._wake()

    async def _run(self) -> None:
        delay = RECONNECT_FIRST_S
        warned_at = float("-inf")
        failures = 0
        while True:
            try:
                connection = await asyncpg.connect(**self._connect_args, timeout=CONNECT_TIMEOUT_S)
            except Exception as exc:  # unreachable, refused, timed out: try again, never give up
                failures += 1
                if time.monotonic() - warned_at >= WARN_EVERY_S:
                    log.warning(
                        "cannot listen for changes (%s: %s; %d attempt(s)); retrying, and the "
                        "revision poll keeps the caches current meanwhile",
                        type(exc).__name__,
                        exc,
                        failures,
                    )
                    warned_at = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            if failures:
                log.info("listening for changes again after %d failed attempt(s)", failures)
            delay, failures, warned_at = RECONNECT_FIRST_S, 0, float("-inf")
            try:
                await self._listen(connection)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the connection: reconnect
                name = type(exc).__name__
                log.warning("the change listener's connection failed (%s: %s); reconnecting", name, exc)
            finally:
                self.listening.clear()
                connection.terminate()

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Listen until the connection is lost (returns or raises)."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, self._notified)
        self.listening.set()
        self._wake()  # a change made before LISTEN took effect is read now
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), PING_EVERY_S)
            except TimeoutError:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), PING_TIMEOUT_S)
        log.warning("the change listener's connection was closed; reconnecting")


def start_listener(engine: AsyncEngine, wake: Callable[[], None]) -> RevisionListener | None:
    """A started listener on PostgreSQL; None on SQLite (the poll alone serves there)."""
    if not listens(engine):
        return None
    listener = RevisionListener(connect_arguments(engine), wake)
    listener.start()
    return listener
