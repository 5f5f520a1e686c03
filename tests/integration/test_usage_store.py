"""The usage table (inference_service.store.usage) on SQLite and PostgreSQL, migrated with
alembic: batches add to the rows already there, concurrent batches from several "workers"
(engines) lose nothing, and reads filter by time and endpoint."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from inference_service.settings import Settings
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.usage import Usage, UsageStore

H9 = datetime(2026, 12, 2, 9, tzinfo=UTC)
H10 = datetime(2026, 12, 2, 10, tzinfo=UTC)


def test_batches_add_to_existing_rows_and_reads_filter(settings: Settings) -> None:
    async def scenario() -> None:
        engine = create_engine(settings.resolved_database_url)
        store = UsageStore(create_sessionmaker(engine))
        try:
            await store.add([Usage(H10, "chat", "k1", 2, 1, 10, 20), Usage(H9, "chat", "", 1, 0, 3, 4)])
            await store.add([Usage(H10, "chat", "k1", 3, 0, 5, 6), Usage(H10, "embed", "k1", 1, 0, 7, 0)])
            assert await store.read() == [
                Usage(H9, "chat", "", 1, 0, 3, 4),
                Usage(H10, "chat", "k1", 5, 1, 15, 26),
                Usage(H10, "embed", "k1", 1, 0, 7, 0),
            ]
            assert await store.read(since=H10, inference_ids=["chat"]) == [
                Usage(H10, "chat", "k1", 5, 1, 15, 26)
            ]
            assert await store.read(until=H10) == [Usage(H9, "chat", "", 1, 0, 3, 4)]
            assert await store.read(inference_ids=[]) == []
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_concurrent_batches_from_many_workers_lose_nothing(settings: Settings) -> None:
    """Eight engines (workers) each write 10 batches on the same rows, in opposite orders
    half the time: the sums are exact, no deadlock, no lost update."""
    hour = datetime(2026, 12, 3, 1, tzinfo=UTC)

    async def worker(index: int) -> None:
        engine = create_engine(settings.resolved_database_url, pool_size=1)
        store = UsageStore(create_sessionmaker(engine))
        rows = [Usage(hour, f"ep-{n}", "k", 1, n % 2, 2, 3) for n in range(5)]
        try:
            for _ in range(10):
                await store.add(rows if index % 2 else rows[::-1])
        finally:
            await engine.dispose()

    async def scenario() -> list[Usage]:
        await asyncio.gather(*(worker(i) for i in range(8)))
        engine = create_engine(settings.resolved_database_url)
        try:
            return await UsageStore(create_sessionmaker(engine)).read(since=hour)
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == [
        Usage(hour, f"ep-{n}", "k", 80, 80 * (n % 2), 160, 240) for n in range(5)
    ]
