"""The idempotency store the settings ask for: Redis when ``redis_url`` is set (the worker's
one client, :mod:`inference_service.redis_client`, whose short timeouts turn an outage into a
prompt 503 rather than a hang), else SQL."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.idempotency.redis_store import RedisIdempotencyStore
from inference_service.idempotency.sql import SqlIdempotencyStore
from inference_service.idempotency.store import IdempotencyStore
from inference_service.settings import Settings


def open_idempotency_store(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis: Redis | None
) -> IdempotencyStore:
    """The store, started (the SQL store's purge runs from here on); inside the running loop.
    ``redis`` stays the caller's to close."""
    if redis is not None:
        return RedisIdempotencyStore(redis, settings.redis_key_prefix, owns_client=False)
    store = SqlIdempotencyStore(sessions)
    store.start_purging(settings.idempotency_ttl)
    return store
