"""The revision counters of the in-process caches: rows of the ``catalog_revision`` table.

Each cache (the endpoint catalog, the API key ring) has one row; every change to what it
caches increments that row in the same transaction, so a worker learns that its copy is stale
from one tiny query per poll (:class:`~inference_service.refresh.RevisionWatcher` reads every
row at once), never from a query per request.

On PostgreSQL the same transaction also sends ``NOTIFY`` on :data:`CHANNEL` (:func:`changed`),
which PostgreSQL delivers at commit, with the change and only if it commits, to every worker
listening (:mod:`inference_service.revision_listener`): they check at once instead of at their
next poll. The poll stays, so a lost notification (a listener reconnecting, a writer of an
older version) is caught within ``catalog_refresh_interval`` all the same.
"""

from __future__ import annotations

from sqlalchemy import Connection, Select, Update, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inference_service.store.tables import CatalogRevision

ENDPOINTS = 1
"""The endpoint catalog's counter (migration 0002)."""
API_KEYS = 2
"""The API key ring's counter (migration 0003)."""
CHANNEL = "inference_service_revisions"
"""The PostgreSQL notification channel; the payload is the counter's id."""


def bump(counter: int) -> Update:
    """Increment ``counter``; run it in the transaction of the change."""
    return (
        update(CatalogRevision)
        .where(CatalogRevision.id == counter)
        .values(revision=CatalogRevision.revision + 1)
    )


def read(counter: int) -> Select[int]:
    return select(CatalogRevision.revision).where(CatalogRevision.id == counter)


READ_ALL = select(CatalogRevision.id, CatalogRevision.revision)


def notify(counter: int) -> Select[tuple[object]]:
    """PostgreSQL's ``NOTIFY`` of ``counter`` (``pg_notify``: the channel as a parameter)."""
    return select(func.pg_notify(literal(CHANNEL), literal(str(counter))))


async def changed(session: AsyncSession, counter: int) -> None:
    """Bump ``counter`` in the session's transaction and, on PostgreSQL, notify the listeners
    (delivered when that transaction commits)."""
    await session.execute(bump(counter))
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(notify(counter))


def changed_sync(connection: Connection, counter: int) -> None:
    """:func:`changed` on a synchronous connection (the migration helpers)."""
    connection.execute(bump(counter))
    if connection.dialect.name == "postgresql":
        connection.execute(notify(counter))
