"""The usage table: batches of hourly counts added in, and the rows of a time range read out.

Many workers write the same hours, each flush adding what it counted since its last one, so a
write is an upsert that *adds* (``INSERT … ON CONFLICT (hour, inference_id, api_key_id) DO
UPDATE SET requests = usage_hours.requests + excluded.requests …``), in the dialect's own words
for SQLite and PostgreSQL: no read-modify-write, so concurrent flushes cannot lose each other's
counts. A batch is one transaction, written in primary-key order so that two workers' batches
lock shared rows in the same order (PostgreSQL would otherwise be free to deadlock them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.store.tables import Base, UsageRow

COUNTS = ("requests", "errors", "input_tokens", "output_tokens")
_TABLE: Table = Base.metadata.tables[UsageRow.__tablename__]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Usage:
    """Counts of one period, endpoint and key. ``period`` is the period's start (UTC);
    ``inference_id`` or ``api_key_id`` is None in a summary grouped over them, ``api_key_id``
    is ``""`` for requests made without a key."""

    period: datetime | None
    inference_id: str | None
    api_key_id: str | None
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (UTC, as written)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.hour, _TABLE.c.inference_id, _TABLE.c.api_key_id],
        set_={name: _TABLE.c[name] + statement.excluded[name] for name in COUNTS},
    )


def _primary_key(row: Usage) -> tuple[datetime, str, str]:
    return (row.period or _EPOCH, row.inference_id or "", row.api_key_id or "")


async def add_usage(session: AsyncSession, rows: Sequence[Usage]) -> None:
    """Add ``rows`` (hourly, every field set) to the table, in the caller's transaction."""
    if not rows:
        return
    params = [
        {
            "hour": row.period,
            "inference_id": row.inference_id,
            "api_key_id": row.api_key_id,
            "requests": row.requests,
            "errors": row.errors,
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
        }
        for row in sorted(rows, key=_primary_key)
    ]
    await session.execute(_upsert(session.get_bind().dialect.name), params)


async def read_usage(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    inference_ids: Collection[str] | None = None,
) -> list[Usage]:
    """The hourly rows with ``since <= hour < until`` (either bound optional), of the given
    endpoints only when ``inference_ids`` is not None, in time, endpoint, key order."""
    query = select(_TABLE)
    if since is not None:
        query = query.where(_TABLE.c.hour >= since)
    if until is not None:
        query = query.where(_TABLE.c.hour < until)
    if inference_ids is not None:
        query = query.where(_TABLE.c.inference_id.in_(list(inference_ids)))
    query = query.order_by(_TABLE.c.hour, _TABLE.c.inference_id, _TABLE.c.api_key_id)
    result = await session.execute(query)
    return [
        Usage(
            _aware(row.hour),
            row.inference_id,
            row.api_key_id,
            row.requests,
            row.errors,
            row.input_tokens,
            row.output_tokens,
        )
        for row in result
    ]


class UsageStore:
    """The usage table behind one session maker: what the flusher writes with and the API
    and the command line read with."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, rows: Sequence[Usage]) -> None:
        async with self._sessions.begin() as session:
            await add_usage(session, rows)

    async def read(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        inference_ids: Collection[str] | None = None,
    ) -> list[Usage]:
        async with self._sessions() as session:
            return await read_usage(session, since=since, until=until, inference_ids=inference_ids)
