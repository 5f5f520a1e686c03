"""Alembic environment: runs migrations on the service's own database, async engine.

The database comes from ``config.attributes["settings"]`` when the CLI or a test passes a
:class:`Settings`, else from :func:`load_settings` (so plain ``alembic upgrade head`` works too).
A test may also hand over a sync ``connection`` or an ``AsyncEngine`` in ``config.attributes``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from inference_service.settings import Settings, load_settings
from inference_service.store.engine import create_engine, open_connection
from inference_service.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else load_settings()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_on(engine: AsyncEngine) -> None:
    async with open_connection(engine) as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()


async def _run_async(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await _run_on(engine)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_settings().resolved_database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Any = config.attributes.get("connection")
    if isinstance(connection, AsyncEngine):  # handed over by tests (pytest-alembic)
        asyncio.run(_run_on(connection))
        return
    if connection is not None:
        _run_sync(connection)
        return
    asyncio.run(_run_async(_settings().resolved_database_url))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
