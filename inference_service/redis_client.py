"""The worker's one Redis client (``redis_url``), shared by everything kept in Redis.

Timeouts are short: Redis answers in well under a millisecond on a healthy network, and a
request must not hang on a Redis that stopped answering (each user decides what a failure
means: the response cache answers without itself).
"""

from __future__ import annotations

from redis.asyncio import Redis

from inference_service.settings import Settings

SOCKET_TIMEOUT_S = 1.0


def connect_redis(settings: Settings) -> Redis | None:
    """A client for ``settings.redis_url`` (None when it is empty); connects on first use."""
    if not settings.redis_url:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )
