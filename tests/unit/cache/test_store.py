"""The two cache stores (inference_service.cache.store): this worker's LRU and Redis on
127.0.0.1:6379, and a Redis that cannot be reached (a closed loopback port)."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

import pytest
from redis.asyncio import Redis

from inference_service.cache.store import ENTRY_OVERHEAD, MemoryCache, RedisCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_entries_expire_after_their_own_ttl() -> None:
    clock = Clock()
    cache = MemoryCache(10_000, clock=clock)

    async def scenario() -> None:
        await cache.set("short", b"a", 5)
        await cache.set("long", b"b", 60)
        assert await cache.get("short") == b"a"
        clock.now += 6
        assert await cache.get("short") is None
        assert await cache.get("long") == b"b"
        clock.now += 60
        assert await cache.get("long") is None

    asyncio.run(scenario())


def test_memory_is_bounded_in_bytes_and_evicts_the_least_recently_used() -> None:
    value = b"x" * 800
    cache = MemoryCache(3 * (len(value) + ENTRY_OVERHEAD))

    async def scenario() -> None:
        for name in ("a", "b", "c"):
            await cache.set(name, value, 60)
        assert await cache.get("a") == value  # a is now the most recently used
        await cache.set("d", value, 60)
        assert await cache.get("b") is None
        assert [await cache.get(n) for n in ("a", "c", "d")] == [value, value, value]
        assert cache.bytes_used == 3 * (len(value) + ENTRY_OVERHEAD) and len(cache) == 3
        await cache.set("huge", b"y" * 10_000, 60)  # larger than the whole cache: not stored
        assert await cache.get("huge") is None and len(cache) == 3

    asyncio.run(scenario())


def test_redis_stores_with_a_ttl_under_the_prefix() -> None:
    prefix = f"test-{uuid.uuid4().hex}:"

    async def scenario() -> None:
        redis = Redis.from_url("redis://127.0.0.1:6379/0")
        try:
            cache = RedisCache(redis, prefix)
            assert await cache.get("k") is None
            await cache.set("k", b"\x00answer", 30)
            assert await cache.get("k") == b"\x00answer"
            ttl_ms = await redis.pttl(prefix + "cache:k")
            assert 0 < ttl_ms <= 30_000
            await redis.delete(prefix + "cache:k")
        finally:
            await redis.aclose()

    asyncio.run(scenario())


def test_an_unreachable_redis_is_a_miss_and_a_skipped_write_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens there

    async def scenario() -> None:
        redis = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
        try:
            cache = RedisCache(redis, "p:")
            assert await cache.get("k") is None
            await cache.set("k", b"v", 10)
        finally:
            await redis.aclose()

    with caplog.at_level(logging.WARNING, "inference_service.cache"):
        asyncio.run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.name == "inference_service.cache"]
    assert len(warnings) == 1 and "Redis read failed, answering without the cache" in warnings[0]
