"""The claim protocol, on each store: the SQL store on a SQLite file and on a PostgreSQL test
database, and the Redis store. Lease take-over is tested with a short lease (the module
constant patched), expiry with a short TTL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from inference_service.idempotency import redis_store, sql
from inference_service.idempotency.redis_store import RedisIdempotencyStore
from inference_service.idempotency.sql import SqlIdempotencyStore
from inference_service.idempotency.store import (
    Claimed,
    Conflict,
    IdempotencyStore,
    InFlight,
    Replay,
    StoredResponse,
)
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import upgrade
from tests.conftest import make_settings
from tests.support.databases import throwaway_postgres

REDIS_URL = "redis://127.0.0.1:6379/0"
PRINT = b"f" * 32
OTHER = b"o" * 32
RESPONSE = StoredResponse(200, [(b"content-type", b"application/json"), (b"x-a", b"1")], b'{"ok":true}')

StoreFactory = Callable[[], AbstractAsyncContextManager[IdempotencyStore]]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


def _sql_factory(database_url: str) -> StoreFactory:
    @asynccontextmanager
    async def open_store() -> AsyncIterator[IdempotencyStore]:
        engine = create_engine(database_url)
        store = SqlIdempotencyStore(create_sessionmaker(engine))
        try:
            yield store
        finally:
            await store.close()
            await engine.dispose()

    return open_store


def _redis_factory(prefix: str) -> StoreFactory:
    @asynccontextmanager
    async def open_store() -> AsyncIterator[IdempotencyStore]:
        store = RedisIdempotencyStore(Redis.from_url(REDIS_URL), prefix)
        try:
            yield store
        finally:
            await store.close()

    return open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of stores on one backend; each store it opens is another "node"."""
    if request.param == "redis":
        prefix = f"test-{uuid.uuid4().hex}:"
        yield _redis_factory(prefix)
        asyncio.run(_drop_prefix(prefix))
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'idempotency.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(make_settings(tmp_path / "data", url))
    yield _sql_factory(url)


async def _drop_prefix(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def run(open_store: StoreFactory, check: Callable[[IdempotencyStore], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with open_store() as store:
            await check(store)

    asyncio.run(main())


def key() -> str:
    return f"k-{uuid.uuid4().hex}"


def test_claim_complete_replay(open_store: StoreFactory) -> None:
    async def check(store: IdempotencyStore) -> None:
        k = key()
        claimed = await store.claim("scope", k, PRINT)
        assert isinstance(claimed, Claimed)
        assert isinstance(await store.claim("scope", k, PRINT), InFlight)
        assert await store.complete("scope", k, claimed.token, RESPONSE, ttl=60)
        assert await store.claim("scope", k, PRINT) == Replay(RESPONSE)
        assert isinstance(await store.claim("other-scope", k, PRINT), Claimed)  # scopes are apart

    run(open_store, check)


def test_another_fingerprint_is_a_conflict_in_flight_and_done(open_store: StoreFactory) -> None:
    async def check(store: IdempotencyStore) -> None:
        k = key()
        claimed = await store.claim("scope", k, PRINT)
        assert isinstance(claimed, Claimed)
        assert isinstance(await store.claim("scope", k, OTHER), Conflict)
        await store.complete("scope", k, claimed.token, RESPONSE, ttl=60)
        assert isinstance(await store.claim("scope", k, OTHER), Conflict)

    run(open_store, check)


def test_release_frees_the_key_and_only_its_token_can(open_store: StoreFactory) -> None:
    async def check(store: IdempotencyStore) -> None:
        k = key()
        claimed = await store.claim("scope", k, PRINT)
        assert isinstance(claimed, Claimed)
        assert not await store.release("scope", k, "0" * 32)
        assert not await store.complete("scope", k, "0" * 32, RESPONSE, ttl=60)
        assert isinstance(await store.claim("scope", k, PRINT), InFlight)
        assert await store.release("scope", k, claimed.token)
        assert isinstance(await store.claim("scope", k, OTHER), Claimed)  # a new request now

    run(open_store, check)


def test_an_expired_lease_is_taken_over_and_its_old_owner_changes_nothing(
    open_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "LEASE_S", 0.2)
    monkeypatch.setattr(redis_store, "LEASE_S", 0.2)

    async def check(store: IdempotencyStore) -> None:
        k = key()
        old = await store.claim("scope", k, PRINT)
        assert isinstance(old, Claimed)
        await asyncio.sleep(0.3)
        new = await store.claim("scope", k, PRINT)
        assert isinstance(new, Claimed) and new.token != old.token
        assert not await store.complete("scope", k, old.token, RESPONSE, ttl=60)
        assert not await store.release("scope", k, old.token)
        assert isinstance(await store.claim("scope", k, PRINT), InFlight)
        assert await store.complete("scope", k, new.token, RESPONSE, ttl=60)
        assert await store.claim("scope", k, PRINT) == Replay(RESPONSE)

    run(open_store, check)


def test_an_expired_outcome_is_absent(open_store: StoreFactory) -> None:
    async def check(store: IdempotencyStore) -> None:
        k = key()
        claimed = await store.claim("scope", k, PRINT)
        assert isinstance(claimed, Claimed)
        assert await store.complete("scope", k, claimed.token, RESPONSE, ttl=0.2)
        await asyncio.sleep(0.3)
        assert isinstance(await store.claim("scope", k, OTHER), Claimed)  # no conflict, no replay

    run(open_store, check)


def test_concurrent_claims_on_two_nodes_have_one_winner(open_store: StoreFactory) -> None:
    async def main() -> None:
        async with open_store() as a, open_store() as b:
            k = key()
            outcomes = await asyncio.gather(*(node.claim("scope", k, PRINT) for node in [a, b] * 5))
            assert sum(isinstance(o, Claimed) for o in outcomes) == 1
            assert sum(isinstance(o, InFlight) for o in outcomes) == 9

    asyncio.run(main())
