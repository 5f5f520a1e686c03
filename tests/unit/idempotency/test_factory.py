"""The store the settings ask for (inference_service.idempotency.factory)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from inference_service.idempotency.factory import open_idempotency_store
from inference_service.idempotency.redis_store import RedisIdempotencyStore
from inference_service.idempotency.sql import SqlIdempotencyStore
from inference_service.redis_client import connect_redis
from inference_service.store.engine import create_engine, create_sessionmaker
from tests.conftest import make_settings


def test_sql_by_default_and_redis_with_redis_url(tmp_path: Path) -> None:
    async def main() -> tuple[type, type]:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
        sessions = create_sessionmaker(engine)
        sql = open_idempotency_store(make_settings(tmp_path), sessions, None)
        with_redis = make_settings(tmp_path, redis_url="redis://127.0.0.1:6379/0")
        client = connect_redis(with_redis)
        assert client is not None
        redis = open_idempotency_store(with_redis, sessions, client)
        kinds = (type(sql), type(redis))
        await sql.close()  # stops the purge task it started
        await redis.close()
        assert await client.ping()  # the client is the caller's: the store left it open
        await client.aclose()
        await engine.dispose()
        return kinds

    assert asyncio.run(main()) == (SqlIdempotencyStore, RedisIdempotencyStore)
