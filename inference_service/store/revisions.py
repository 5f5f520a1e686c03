"""The revision counters of the in-process caches: rows of the ``catalog_revision`` table.

Each cache (the endpoint catalog, the API key ring) has one row; every change to what it
caches increments that row in the same transaction, so a worker learns that its copy is stale
from one tiny query per poll (:class:`~inference_service.refresh.RevisionWatcher` reads every
row at once), never from a query per request.
"""

from __future__ import annotations

from sqlalchemy import Select, Update, select, update

from inference_service.store.tables import CatalogRevision

ENDPOINTS = 1
"""The endpoint catalog's counter (migration 0002)."""
API_KEYS = 2
"""The API key ring's counter (migration 0003)."""


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
