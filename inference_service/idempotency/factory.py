"""The idempotency store the settings ask for: Redis when ``redis_url`` is set, else SQL."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.idempotency.redis_store import RedisIdempotencyStore
from inference_service.idempotency.sql import SqlIdempotencyStore
from inference_service.idempotency.store import IdempotencyStore
from inference_service.settings import Settings

REDIS_TIMEOUT_S = 5.0
"""Connect and read timeout of the Redis client: an outage becomes a prompt 503, not a hang."""


def open_idempotency_store(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> IdempotencyStore:
    """The store, started (the SQL store's purge runs from here on); inside the running loop."""
    if settings.redis_url:
        client = Redis.from_url(
            settings.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        return RedisIdempotencyStore(client, settings.redis_key_prefix)
    store = SqlIdempotencyStore(sessions)
    store.start_purging(settings.idempotency_ttl)
    return store
