"""The SQL idempotency store (the default): the ``idempotency_keys`` table of the service's
database, so keys survive restarts and are shared by every node on the database.

Atomic under concurrency on SQLite and PostgreSQL without locks held across the request:

* **claim**: an ``INSERT`` of the key; the primary key lets one of any number of concurrent
  inserts win, the others fail with ``IntegrityError`` (PostgreSQL makes them wait for the
  winner's commit; SQLite's ``BEGIN IMMEDIATE`` serializes them). A loser reads the row: a live
  one decides the outcome (:func:`~.store.decide`); an expired one (a lease whose node died, or
  an outcome past its TTL) is taken over with ``UPDATE … WHERE token = <the token read> AND
  expires_at <= now``, which only one taker can win. A row deleted between the insert and the
  read (released, purged) is simply claimed again.
* **complete** and **release**: ``UPDATE`` / ``DELETE … WHERE token = <ours>``, so a claim
  taken over after its lease changes nothing for its old owner.

Times are the nodes' clocks (UTC), which must agree within a small fraction of the lease.
Expired rows are deleted by a background task every ``min(ttl, 300 s)``
(:meth:`SqlIdempotencyStore.start_purging`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Delete, Update, delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.idempotency.store import (
    DONE,
    IN_FLIGHT,
    LEASE_S,
    Claimed,
    ClaimOutcome,
    StoredResponse,
    StoreUnavailableError,
    decide,
    new_token,
)
from inference_service.store.tables import IdempotencyKeyRow

log = logging.getLogger("inference_service.idempotency")
_UNSETTLED = "idempotency store: the key changed under every claim attempt"

MAX_PURGE_INTERVAL_S = 300.0
_CLAIM_ATTEMPTS = 5
"""Rounds of insert / read / take-over before giving up; each lost round means another
request changed the row in between, so more than a few means something is wrong."""


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (UTC, as written)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SqlIdempotencyStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._purger: asyncio.Task[None] | None = None

    async def claim(self, scope: str, key: str, fingerprint: bytes) -> ClaimOutcome:
        try:
            for _ in range(_CLAIM_ATTEMPTS):
                outcome = await self._claim_once(scope, key, fingerprint)
                if outcome is not None:
                    return outcome
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"idempotency store: {exc}") from exc
        raise StoreUnavailableError(_UNSETTLED)

    async def _claim_once(self, scope: str, key: str, fingerprint: bytes) -> ClaimOutcome | None:
        token = new_token()
        now = _now()
        lease_end = now + timedelta(seconds=LEASE_S)
        try:
            async with self._sessions.begin() as session:
                session.add(
                    IdempotencyKeyRow(
                        scope=scope,
                        key=key,
                        fingerprint=fingerprint,
                        token=token,
                        state=IN_FLIGHT,
                        created_at=now,
                        expires_at=lease_end,
                    )
                )
            return Claimed(token)
        except IntegrityError:
            pass
        async with self._sessions.begin() as session:
            row = await session.get(IdempotencyKeyRow, (scope, key))
            if row is None:
                return None  # released or purged since: insert again
            if _aware(row.expires_at) > now:
                response = None
                if row.state == DONE and row.status is not None and row.body is not None:
                    headers = [
                        (name.encode("latin-1"), value.encode("latin-1")) for name, value in row.headers or []
                    ]
                    response = StoredResponse(row.status, headers, row.body)
                return decide(fingerprint, row.fingerprint, row.state, response)
            taken = await session.execute(
                update(IdempotencyKeyRow)
                .where(
                    IdempotencyKeyRow.scope == scope,
                    IdempotencyKeyRow.key == key,
                    IdempotencyKeyRow.token == row.token,
                    IdempotencyKeyRow.expires_at <= now,
                )
                .values(
                    fingerprint=fingerprint,
                    token=token,
                    state=IN_FLIGHT,
                    status=None,
                    headers=None,
                    body=None,
                    created_at=now,
                    expires_at=lease_end,
                )
                .execution_options(synchronize_session=False)
            )
            return Claimed(token) if _rowcount(taken) == 1 else None

    async def complete(self, scope: str, key: str, token: str, response: StoredResponse, ttl: float) -> bool:
        headers = [[name.decode("latin-1"), value.decode("latin-1")] for name, value in response.headers]
        statement = (
            update(IdempotencyKeyRow)
            .where(
                IdempotencyKeyRow.scope == scope,
                IdempotencyKeyRow.key == key,
                IdempotencyKeyRow.token == token,
            )
            .values(
                state=DONE,
                status=response.status,
                headers=headers,
                body=response.body,
                expires_at=_now() + timedelta(seconds=ttl),
            )
            .execution_options(synchronize_session=False)
        )
        return await self._write(statement)

    async def release(self, scope: str, key: str, token: str) -> bool:
        statement = (
            delete(IdempotencyKeyRow)
            .where(
                IdempotencyKeyRow.scope == scope,
                IdempotencyKeyRow.key == key,
                IdempotencyKeyRow.token == token,
            )
            .execution_options(synchronize_session=False)
        )
        return await self._write(statement)

    async def _write(self, statement: Update | Delete) -> bool:
        try:
            async with self._sessions.begin() as session:
                result = await session.execute(statement)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailableError(f"idempotency store: {exc}") from exc
        return _rowcount(result) == 1

    async def purge(self) -> int:
        """Delete every expired row (claims whose lease ran out, outcomes past their TTL)."""
        statement = delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= _now())
        async with self._sessions.begin() as session:
            result = await session.execute(statement.execution_options(synchronize_session=False))
        return _rowcount(result)

    def start_purging(self, ttl: float) -> None:
        """Purge in the background every ``min(ttl, 300 s)`` until :meth:`close`."""
        interval = max(0.05, min(ttl, MAX_PURGE_INTERVAL_S))
        self._purger = asyncio.create_task(self._purge_every(interval), name="idempotency-purge")

    async def _purge_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                purged = await self.purge()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("purging expired idempotency keys failed: %s", exc)
                continue
            if purged:
                log.debug("purged %d expired idempotency keys", purged)

    async def close(self) -> None:
        purger, self._purger = self._purger, None
        if purger is not None:
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger


def _raw_headers(headers: list[list[str]]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _rowcount(result: object) -> int:
    count = getattr(result, "rowcount", 0)
    return int(count) if isinstance(count, int) else 0
