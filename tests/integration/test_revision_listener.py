"""The change listener on PostgreSQL (inference_service.revision_listener): a change committed
by another process reaches a running service at once, and after its listening connection is
killed the listener reconnects and changes reach it again. The poll is an hour, so every reload
seen here was notified; the waits are bounds for a failure."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from inference_service.revision_listener import APPLICATION_NAME, connect_arguments
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import upgrade
from inference_service.store.revisions import API_KEYS, ENDPOINTS, changed
from tests.conftest import make_settings
from tests.support.databases import throwaway_postgres
from tests.support.service import RunningService, run_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.postgres
BOUND_S = 15.0


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def service(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    settings = make_settings(tmp_path_factory.mktemp("data"), database_url, catalog_refresh_interval=3600)
    upgrade(settings)
    with run_service(settings) as running:
        yield running


def bump_elsewhere(database_url: str, counter: int) -> None:
    """A change committed by another process's engine, as another node makes one."""

    async def main() -> None:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                await changed(session, counter)
        finally:
            await engine.dispose()

    asyncio.run(main())


def admin(database_url: str, query: str) -> list[asyncpg.Record]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def main() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn)
        try:
            return list(await connection.fetch(query))
        finally:
            await connection.close()

    return asyncio.run(main())


def listener_pids(database_url: str) -> set[int]:
    rows = admin(
        database_url,
        f"SELECT pid FROM pg_stat_activity WHERE application_name = '{APPLICATION_NAME}' "
        "AND datname = current_database()",
    )
    return {int(row["pid"]) for row in rows}


def revisions(service: RunningService) -> tuple[int | None, int | None]:
    services = service.app.state.services
    return service.inspect(lambda: (services.catalog.revision, services.keys.revision))


def test_a_change_committed_elsewhere_is_loaded_at_once(service: RunningService, database_url: str) -> None:
    assert eventually(lambda: len(listener_pids(database_url)) == 1, BOUND_S)
    endpoints, keys = revisions(service)
    assert endpoints is not None and keys is not None
    bump_elsewhere(database_url, ENDPOINTS)
    assert eventually(lambda: revisions(service) == (endpoints + 1, keys), BOUND_S)
    bump_elsewhere(database_url, API_KEYS)
    assert eventually(lambda: revisions(service) == (endpoints + 1, keys + 1), BOUND_S)


def test_a_killed_listener_connection_reconnects(service: RunningService, database_url: str) -> None:
    assert eventually(lambda: len(listener_pids(database_url)) == 1, BOUND_S)
    [old] = listener_pids(database_url)
    admin(database_url, f"SELECT pg_terminate_backend({old})")
    assert eventually(lambda: len(listener_pids(database_url) - {old}) == 1, BOUND_S)
    endpoints, keys = revisions(service)
    assert endpoints is not None
    bump_elsewhere(database_url, ENDPOINTS)
    assert eventually(lambda: revisions(service) == (endpoints + 1, keys), BOUND_S)


def test_the_listener_connects_as_the_engine_does() -> None:
    engine = create_engine("postgresql+asyncpg://u:pw@db.example:6543/inference?ssl=require")
    assert connect_arguments(engine) == {
        "host": "db.example",
        "port": 6543,
        "user": "u",
        "password": "pw",
        "database": "inference",
        "ssl": "require",
        "server_settings": {"application_name": APPLICATION_NAME},
    }
