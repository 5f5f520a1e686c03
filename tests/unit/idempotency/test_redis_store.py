"""What only the Redis store does: every key under the prefix, scopes that cannot collide."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from inference_service.idempotency.redis_store import RedisIdempotencyStore
from inference_service.idempotency.store import Claimed, StoredResponse

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_keys_start_with_the_prefix_and_expire() -> None:
    prefix = f"test-{uuid.uuid4().hex}:"

    async def main() -> None:
        client = Redis.from_url(REDIS_URL)
        store = RedisIdempotencyStore(client, prefix, owns_client=False)
        try:
            claimed = await store.claim("team:a", "b", b"p")
            assert isinstance(claimed, Claimed)
            assert isinstance(await store.claim("team", "a:b", b"p"), Claimed)  # no collision
            names = sorted([name async for name in client.scan_iter(match=prefix + "*")])
            assert names == [
                f"{prefix}idempotency:4:team:a:b".encode(),
                f"{prefix}idempotency:6:team:a:b".encode(),
            ]
            assert 0 < await client.pttl(names[1]) <= 600_000  # the lease
            await store.complete("team:a", "b", claimed.token, StoredResponse(200, [], b"x"), ttl=30)
            assert 0 < await client.pttl(names[1]) <= 30_000  # the TTL
        finally:
            keys = [name async for name in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(main())
