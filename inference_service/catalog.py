"""The in-process endpoint cache: the hot path resolves an endpoint without a database query.

Every worker keeps all endpoints (secrets decrypted) in a dict. It stays correct by:

- this worker's own writes: the manager tells it what it stored or removed once committed;
- other workers' (and other nodes', and migrations') writes: every write bumps
  ``catalog_revision`` in its transaction; a background task reads that one integer every
  ``catalog_refresh_interval`` seconds and reloads everything when it moved. Another worker's
  update is therefore visible here within one interval;
- a miss (an id created elsewhere moments ago) falls through to one query, and is cached.

A failed refresh (database down) is logged and retried; the last good state keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.errors import EndpointNotFoundError
from inference_service.model.endpoint import Endpoint
from inference_service.store.endpoints import READ_REVISION, EndpointRepository
from inference_service.store.secret_box import SecretBox

log = logging.getLogger("inference_service.catalog")


class EndpointCatalog:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        *,
        refresh_interval: float,
        preconfigured: Mapping[str, Endpoint] | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._interval = refresh_interval
        self._preconfigured = dict(preconfigured or {})
        self._entries: dict[str, Endpoint] = dict(self._preconfigured)
        self._revision: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._poll(), name="endpoint-catalog-refresh")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reload(self) -> None:
        async with self._sessions() as session:
            revision = (await session.execute(READ_REVISION)).scalar_one()
            stored = await EndpointRepository(session, self._box).list_all(with_secrets=True)
        self._entries = {**{e.inference_id: e for e in stored}, **self._preconfigured}
        self._revision = revision

    async def resolve(self, inference_id: str) -> Endpoint:
        """The endpoint with its secrets; a query only on a cache miss."""
        endpoint = self._entries.get(inference_id)
        if endpoint is not None:
            return endpoint
        async with self._sessions() as session:
            endpoint = await EndpointRepository(session, self._box).get(inference_id, with_secrets=True)
        if endpoint is None:
            raise EndpointNotFoundError(inference_id)
        self._entries[inference_id] = endpoint
        return endpoint

    @property
    def endpoints(self) -> list[Endpoint]:
        return list(self._entries.values())

    def stored(self, endpoint: Endpoint) -> None:
        self._entries[endpoint.inference_id] = endpoint

    def removed(self, inference_id: str) -> None:
        self._entries.pop(inference_id, None)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                async with self._sessions() as session:
                    revision = (await session.execute(READ_REVISION)).scalar_one()
                if revision != self._revision:
                    await self.reload()
            except Exception:
                log.exception("endpoint catalog refresh failed; serving the last loaded endpoints")
