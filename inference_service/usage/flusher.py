"""Writes a worker's usage accounts to the SQL store every ``usage_flush_interval`` seconds
and once more when the worker stops (the lifespan's exit), as one batch in one transaction.

A flush that fails (database down, locked, restarting) puts the counts back into the accounts
and logs a warning: the next flush writes them together with what was counted meanwhile, so
an outage of the database delays usage but does not lose it. Only the worker's death between
two flushes (``kill -9``, a crash) loses counts: at most one interval's. A SIGTERM makes
hypercorn finish the requests in flight and then leave the lifespan, whose last flush writes
everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from inference_service.store.usage import UsageStore
from inference_service.usage.accounts import UsageAccounts

log = logging.getLogger("inference_service.usage")


class UsageFlusher:
    def __init__(self, accounts: UsageAccounts, store: UsageStore, interval: float) -> None:
        self._accounts = accounts
        self._store = store
        self._interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-flusher")

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
            await self.flush()

    async def flush(self) -> bool:
        """Write what was counted since the last flush; False (counts kept) if that failed."""
        rows = self._accounts.take()
        if not rows:
            return True
        try:
            await self._store.add(rows)
        except BaseException as exc:
            # cancelled mid-write too: the counts go back, a later flush may still write them
            self._accounts.restore(rows)
            if not isinstance(exc, Exception):
                raise
            log.warning("usage flush failed, %d rows kept for the next one: %s", len(rows), exc)
            return False
        return True

    async def close(self) -> None:
        """Stop the periodic flushes, after a last one (counts it cannot write are logged as
        lost: there is no next flush)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()  # what finished while the task's last flush was being written
        lost = self._accounts.pending()
        if lost:
            log.error("usage: %d rows could not be written at shutdown and are lost", lost)
