"""Pure factories for the async engine and session maker; the app's lifespan calls them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_S = 30.0


class DatabaseUnavailableError(Exception):
    """The database cannot be opened or reached (down, wrong URL or credentials, no such
    directory): a start-up failure, reported with the URL minus its password."""


def create_engine(database_url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions.

    ``BEGIN IMMEDIATE`` takes the write lock when a transaction starts, so two writers queue on
    the busy timeout instead of one failing with "database is locked" when it upgrades a read
    lock (SQLite's deferred-transaction deadlock).
    """
    url = make_url(database_url)
    kwargs: dict[str, Any] = {"echo": echo}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            directory = Path(url.database).parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailableError(
                    f"cannot create {directory} for the SQLite database: {exc.strerror or exc}"
                ) from None
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        engine = create_async_engine(url, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    kwargs.update(pool_size=pool_size, pool_pre_ping=True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@asynccontextmanager
async def open_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``engine.connect()``, with a failure to connect raised as :class:`DatabaseUnavailableError`
    (errors once connected are left as they are: they are not about reaching the database)."""
    connection = engine.connect()
    try:
        await connection.start()
    except (OSError, DBAPIError) as exc:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        shown = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(f"cannot connect to the database {shown}: {reason}") from None
    try:
        yield connection
    finally:
        await connection.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
