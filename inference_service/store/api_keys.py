"""The API key repository: rows <-> :class:`ApiKey`. It never commits; callers own the
transaction, and every change bumps the keys' revision counter in it (so every worker's key
ring reloads within ``catalog_refresh_interval``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inference_service.auth.keys import ApiKey, utc
from inference_service.auth.roles import EndpointScope, Role
from inference_service.store.revisions import API_KEYS, changed, read
from inference_service.store.tables import ApiKeyRow

READ_REVISION = read(API_KEYS)


def key_from_row(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        scope=EndpointScope.parse(row.endpoints) if row.endpoints is not None else None,
        metadata=row.key_metadata,
        secret_hash=row.secret_hash,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        expiration=utc(row.expiration) if row.expiration is not None else None,
        invalidated_at=utc(row.invalidated_at) if row.invalidated_at is not None else None,
    )


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert(self, key: ApiKey) -> None:
        values: dict[str, Any] = {
            "id": key.id,
            "name": key.name,
            "role": str(key.role),
            "endpoints": list(key.endpoints) if key.endpoints is not None else None,
            "key_metadata": key.metadata,
            "secret_hash": key.secret_hash,
            "created_by": key.created_by,
            "created_at": key.created_at,
            "expiration": key.expiration,
        }
        await self._session.execute(insert(ApiKeyRow).values(**values))
        await changed(self._session, API_KEYS)

    async def list_all(self) -> list[ApiKey]:
        rows = await self._session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
        return [key_from_row(row) for row in rows]

    async def find(self, *, ids: Sequence[str] | None = None, name: str | None = None) -> list[ApiKey]:
        """Keys with one of ``ids``, or named ``name`` (a trailing ``*`` matches a prefix)."""
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
        if ids is not None:
            query = query.where(ApiKeyRow.id.in_(list(ids)))
        if name is not None:
            if name.endswith("*"):
                prefix = name[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                query = query.where(ApiKeyRow.name.like(prefix + "%", escape="\\"))
            else:
                query = query.where(ApiKeyRow.name == name)
        return [key_from_row(row) for row in await self._session.scalars(query)]

    async def invalidate(self, ids: Sequence[str], when: datetime) -> None:
        """Mark keys invalidated (kept, so listing shows them and ids are never reused)."""
        if not ids:
            return
        await self._session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.id.in_(list(ids)), ApiKeyRow.invalidated_at.is_(None))
            .values(invalidated_at=when)
        )
        await changed(self._session, API_KEYS)

    async def count(self) -> int:
        return int((await self._session.execute(select(func.count()).select_from(ApiKeyRow))).scalar_one())
