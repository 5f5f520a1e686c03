"""The endpoint repository: rows <-> :class:`Endpoint`. It never commits; callers own the transaction.

This is one of the three places that translate lower-layer errors: a duplicate primary key
becomes :class:`EndpointExistsError`. A version check on every update keeps concurrent writers
from overwriting each other silently.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from inference_service.errors import EndpointExistsError
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.store.revisions import ENDPOINTS, bump, read
from inference_service.store.secret_box import SecretBox
from inference_service.store.tables import EndpointRow

ROW_COLUMNS = (
    EndpointRow.inference_id,
    EndpointRow.task_type,
    EndpointRow.service,
    EndpointRow.service_settings,
    EndpointRow.task_settings,
    EndpointRow.chunking_settings,
    EndpointRow.cache,
    EndpointRow.version,
    EndpointRow.created_at,
    EndpointRow.updated_at,
)


def row_values(endpoint: Endpoint, box: SecretBox) -> dict[str, Any]:
    """Column values for ``endpoint``, secrets sealed. Shared with the migration helpers."""
    return {
        "inference_id": endpoint.inference_id,
        "task_type": str(endpoint.task_type),
        "service": endpoint.service,
        "service_settings": endpoint.service_settings,
        "task_settings": endpoint.task_settings,
        "chunking_settings": endpoint.chunking_settings,
        "cache": endpoint.cache,
        "secrets": box.seal(endpoint.inference_id, endpoint.secrets),
    }


def endpoint_from_row(row: Any, secrets: dict[str, Any] | None = None) -> Endpoint:
    return Endpoint(
        inference_id=row.inference_id,
        task_type=TaskType(row.task_type),
        service=row.service,
        service_settings=row.service_settings,
        task_settings=row.task_settings,
        chunking_settings=row.chunking_settings,
        cache=row.cache,
        secrets=secrets or {},
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class EndpointRepository:
    def __init__(self, session: AsyncSession, box: SecretBox) -> None:
        self._session = session
        self._box = box

    async def get(self, inference_id: str, *, with_secrets: bool = False) -> Endpoint | None:
        columns = (*ROW_COLUMNS, EndpointRow.secrets) if with_secrets else ROW_COLUMNS
        result = await self._session.execute(select(*columns).where(EndpointRow.inference_id == inference_id))
        row = result.one_or_none()
        if row is None:
            return None
        secrets = self._box.open(row.inference_id, row.secrets) if with_secrets else None
        return endpoint_from_row(row, secrets)

    async def list_all(self, *, with_secrets: bool = False) -> list[Endpoint]:
        columns = (*ROW_COLUMNS, EndpointRow.secrets) if with_secrets else ROW_COLUMNS
        result = await self._session.execute(select(*columns).order_by(EndpointRow.inference_id))
        return [
            endpoint_from_row(row, self._box.open(row.inference_id, row.secrets) if with_secrets else None)
            for row in result
        ]

    async def insert(self, endpoint: Endpoint) -> None:
        try:
            await self._session.execute(
                insert(EndpointRow).values(**row_values(endpoint, self._box), version=1)
            )
        except IntegrityError:
            raise EndpointExistsError(endpoint.inference_id) from None

    async def replace(self, endpoint: Endpoint, *, expected_version: int) -> bool:
        """Overwrite the row if it is still at ``expected_version``; False if someone else won."""
        return await self._changed_rows(
            update(EndpointRow)
            .where(
                EndpointRow.inference_id == endpoint.inference_id,
                EndpointRow.version == expected_version,
            )
            .values(
                **row_values(endpoint, self._box),
                version=expected_version + 1,
                updated_at=func.now(),
            )
        )

    async def delete(self, inference_id: str) -> bool:
        return await self._changed_rows(delete(EndpointRow).where(EndpointRow.inference_id == inference_id))

    async def _changed_rows(self, statement: Executable) -> bool:
        """Run an UPDATE/DELETE; whether it changed a row (a DML result always has a row count)."""
        result = cast(CursorResult[Any], await self._session.execute(statement))
        return bool(result.rowcount)

    async def reseal_all(self) -> int:
        """Re-encrypt every row's secrets with the primary key; returns how many changed."""
        result = await self._session.execute(select(EndpointRow.inference_id, EndpointRow.secrets))
        changed = 0
        for inference_id, blob in result.all():
            if self._box.is_current(blob):
                continue
            sealed = self._box.seal(inference_id, self._box.open(inference_id, blob))
            await self._session.execute(
                update(EndpointRow).where(EndpointRow.inference_id == inference_id).values(secrets=sealed)
            )
            changed += 1
        return changed


BUMP_REVISION = bump(ENDPOINTS)
READ_REVISION = read(ENDPOINTS)
