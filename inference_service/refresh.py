"""One poll per worker keeps every in-process cache current: :class:`RevisionWatcher`.

The endpoint catalog and the API key ring each mirror a table in memory so the hot path never
queries the database. Every change to a table bumps its row in ``catalog_revision``
(:mod:`inference_service.store.revisions`) in the change's transaction; every
``catalog_refresh_interval`` seconds one query reads all the rows, and each cache whose
counter moved reloads. A change made through another worker (or node, or the CLI, or a
migration) is therefore served here within one interval. On PostgreSQL the
:class:`~inference_service.revision_listener.RevisionListener` calls :meth:`RevisionWatcher.wake`
when a change is notified, so the check runs at once; the poll remains the fallback.

A failed refresh (database down) is logged and retried; the last good state keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.store.revisions import READ_ALL

log = logging.getLogger("inference_service.refresh")


class Follower(Protocol):
    """A cache that follows one revision counter."""

    counter: int
    """Its row in ``catalog_revision``."""
    description: str
    """What it holds, for the log ("endpoints", "API keys")."""

    @property
    def revision(self) -> int | None:
        """The counter value its current contents were loaded at."""
        ...

    async def reload(self) -> None: ...


class RevisionWatcher:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], followers: Sequence[Follower], *, interval: float
    ) -> None:
        self._sessions = sessions
        self._followers = tuple(followers)
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def start(self) -> None:
        """Poll in the background (the followers have loaded once already)."""
        self._task = asyncio.create_task(self._poll(), name="revision-watcher")

    def wake(self) -> None:
        """Check now rather than at the end of the interval (a change was notified). Wakes
        coalesce: the checks stay one at a time, and one check covers every wake before it."""
        self._woken.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self) -> None:
        """Read every counter once; reload each follower whose counter moved."""
        async with self._sessions() as session:
            revisions = {counter: revision for counter, revision in (await session.execute(READ_ALL)).all()}
        for follower in self._followers:
            if revisions.get(follower.counter) == follower.revision:
                continue
            try:
                await follower.reload()
            except Exception:
                log.exception("refreshing the %s failed; serving the last loaded ones", follower.description)

    async def _poll(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._interval)
            self._woken.clear()
            try:
                await self.check()
            except Exception:
                log.exception("reading the revision counters failed; serving the last loaded state")
