"""What only the SQL store does: purging expired rows, in the background too."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from inference_service.idempotency.sql import SqlIdempotencyStore
from inference_service.idempotency.store import Claimed, StoredResponse
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import upgrade
from inference_service.store.tables import IdempotencyKeyRow
from tests.conftest import make_settings

RESPONSE = StoredResponse(201, [(b"x-a", b"1")], b"body")


def test_expired_rows_are_purged_in_the_background(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    upgrade(make_settings(tmp_path / "data", url))

    async def main() -> None:
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        store = SqlIdempotencyStore(sessions)

        async def rows() -> int:
            async with sessions() as session:
                return int(await session.scalar(select(func.count()).select_from(IdempotencyKeyRow)) or 0)

        try:
            short = await store.claim("s", "short", b"p")
            kept = await store.claim("s", "kept", b"p")
            assert isinstance(short, Claimed) and isinstance(kept, Claimed)
            await store.complete("s", "short", short.token, RESPONSE, ttl=0.05)
            await store.complete("s", "kept", kept.token, RESPONSE, ttl=3600)
            store.start_purging(0.1)
            await asyncio.sleep(0.3)
            assert await rows() == 1
        finally:
            await store.close()
            await engine.dispose()

    asyncio.run(main())
