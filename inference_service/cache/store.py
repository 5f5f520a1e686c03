"""Where cached answers live: in the worker's memory, or in Redis shared by every worker.

Both hold opaque bytes (:mod:`inference_service.cache.codec` makes them) under a hex key, each
with its own time to live. The in-process store is an LRU bounded in bytes
(``cache_max_bytes``), so a burst of large answers evicts the least recently used ones instead
of growing the worker; Redis (``redis_url``) lets workers and nodes answer from one cache.

A cache is an optimisation, never a reason to fail a request: when Redis cannot be reached a
lookup counts as a miss and a store is skipped, each logged (at most once a minute per worker,
so an outage does not flood the log), and the answer comes from the provider as it would
without a cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TLRUCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("inference_service.cache")

ENTRY_OVERHEAD = 200
"""Bytes counted per entry beyond its value (the key, the entry objects): small answers must
not let the cache hold far more entries than its bound suggests."""
_WARN_EVERY_S = 60.0


class CacheStore(Protocol):
    remote: bool
    """True when a store is a network round trip (then it is written in the background)."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, data: bytes, ttl_s: float) -> None: ...


class _Stored:
    __slots__ = ("data", "expires")

    def __init__(self, data: bytes, expires: float) -> None:
        self.data = data
        self.expires = expires


def _expiry(_key: str, value: _Stored, _now: float) -> float:
    return value.expires


def _size(value: _Stored) -> int:
    return len(value.data) + ENTRY_OVERHEAD


class MemoryCache:
    """This worker's cache: least recently used entries go first once ``max_bytes`` is reached,
    expired ones as soon as they are touched or room is needed."""

    remote = False

    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: TLRUCache[str, _Stored] = TLRUCache(
            maxsize=max_bytes, ttu=_expiry, timer=self._clock, getsizeof=_size
        )

    async def get(self, key: str) -> bytes | None:
        stored = self._entries.get(key)
        return stored.data if stored is not None else None

    async def set(self, key: str, data: bytes, ttl_s: float) -> None:
        if len(data) + ENTRY_OVERHEAD > self._entries.maxsize:
            return  # larger than the whole cache: storing it would evict everything for nothing
        self._entries[key] = _Stored(data, self._clock() + ttl_s)

    @property
    def bytes_used(self) -> float:
        return self._entries.currsize

    def __len__(self) -> int:
        return len(self._entries)


class RedisCache:
    """The cache in Redis: one string key per answer, expiring on its own (``PX``)."""

    remote = True

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "cache:"
        self._warned_at = -_WARN_EVERY_S

    async def get(self, key: str) -> bytes | None:
        try:
            data = await self._redis.get(self._prefix + key)
        except (RedisError, OSError) as exc:
            self._warn("read", exc)
            return None
        return data if isinstance(data, bytes) else None

    async def set(self, key: str, data: bytes, ttl_s: float) -> None:
        try:
            await self._redis.set(self._prefix + key, data, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._warn("write", exc)

    def _warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            log.warning("response cache: Redis %s failed, answering without the cache: %s", what, exc)
