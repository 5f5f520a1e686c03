"""Real databases for tests: a SQLite file, or a throw-away PostgreSQL database.

PostgreSQL is the server on 127.0.0.1:5432 (user ``postgres``, database ``test``), overridable
with ``TEST_POSTGRES_URL``. Each test session creates its own database and drops it at the end.
When the server is unreachable, Postgres tests fail under CI (``CI=true``) and skip elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from inference_service.settings import Settings

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_available() -> str | None:
    """None if the server answers, else the reason it does not."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    message = f"PostgreSQL at {ADMIN_URL} is unreachable ({reason})"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI requires it")
    pytest.skip(message)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy URL, drop it afterwards."""
    require_postgres()
    name = f"inference_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def raw_endpoint_rows(settings: Settings) -> bytes:
    """Every byte the database holds for the endpoints table (files, or a raw SELECT)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = [Path(url.database), Path(url.database + "-wal"), Path(url.database + "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    async def dump() -> bytes:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("SELECT * FROM inference_endpoints")
        finally:
            await connection.close()
        return repr([dict(r) for r in rows]).encode()

    return asyncio.run(dump())
