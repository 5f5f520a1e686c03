"""Endpoint changes inside alembic revisions: how admins seed and manage endpoints by migration.

Use it from a revision file (``inference-service db upgrade`` then applies it everywhere)::

    from inference_service.store import migration_ops

    def upgrade() -> None:
        migration_ops.put_endpoint(
            "support-chat",
            task_type="chat_completion",
            service="openai",
            service_settings={"model_id": "gpt-4o-mini"},
            secrets_from_env={"api_key": "SUPPORT_OPENAI_KEY"},
        )

    def downgrade() -> None:
        migration_ops.delete_endpoint("support-chat")

Settings are validated exactly as ``PUT /_inference`` validates them; secrets are read from the
named environment variables at migration time (never written in the revision) and encrypted
with the service's key. Migrations never call a provider. Every helper runs in the
migration's transaction: a failure rolls the whole revision back. Each change bumps the
catalog revision in that transaction, so running workers serve it within
``catalog_refresh_interval``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from alembic import op
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from inference_service.endpoints.rules import build_endpoint, merge_update
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType, parse_task_type
from inference_service.providers.registry import builtin_registry
from inference_service.settings import Settings, load_settings
from inference_service.store.endpoints import ROW_COLUMNS, endpoint_from_row, row_values
from inference_service.store.revisions import ENDPOINTS, changed_sync
from inference_service.store.secret_box import SecretBox, load_secret_box
from inference_service.store.tables import EndpointRow


class MigrationOpError(Exception):
    """An endpoint operation in a revision cannot be applied; the revision is rolled back."""


def _context() -> tuple[Connection, SecretBox]:
    config = op.get_context().config
    settings = config.attributes.get("settings") if config is not None else None
    if not isinstance(settings, Settings):
        settings = load_settings()
    box = load_secret_box(settings.secrets_key, settings.resolved_secrets_key_file, create=True)
    return op.get_bind(), box


def _secrets(inference_id: str, secrets_from_env: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for name, var in secrets_from_env.items():
        if var not in os.environ:
            raise MigrationOpError(f"endpoint [{inference_id}]: environment variable [{var}] is not set")
        values[name] = os.environ[var]
    return values


def _current(connection: Connection, box: SecretBox, inference_id: str) -> Endpoint | None:
    row = connection.execute(
        select(*ROW_COLUMNS, EndpointRow.secrets).where(EndpointRow.inference_id == inference_id)
    ).one_or_none()
    if row is None:
        return None
    return endpoint_from_row(row, box.open(inference_id, row.secrets))


def put_endpoint(
    inference_id: str,
    *,
    task_type: TaskType | str,
    service: str,
    service_settings: Mapping[str, Any],
    task_settings: Mapping[str, Any] | None = None,
    chunking_settings: Mapping[str, Any] | None = None,
    cache: Mapping[str, Any] | None = None,
    secrets_from_env: Mapping[str, str] | None = None,
) -> None:
    """Create an endpoint; fails if it exists (use :func:`update_endpoint` to change one)."""
    connection, box = _context()
    body: dict[str, Any] = {
        "service": service,
        "service_settings": {**service_settings, **_secrets(inference_id, secrets_from_env or {})},
        "task_settings": dict(task_settings or {}),
    }
    if chunking_settings is not None:
        body["chunking_settings"] = dict(chunking_settings)
    if cache is not None:
        body["cache"] = dict(cache)
    endpoint = build_endpoint(builtin_registry(), inference_id, parse_task_type(str(task_type)), body)
    if _current(connection, box, inference_id) is not None:
        raise MigrationOpError(f"endpoint [{inference_id}] already exists")
    connection.execute(insert(EndpointRow).values(**row_values(endpoint, box), version=1))
    changed_sync(connection, ENDPOINTS)


def update_endpoint(
    inference_id: str,
    *,
    service_settings: Mapping[str, Any] | None = None,
    task_settings: Mapping[str, Any] | None = None,
    secrets_from_env: Mapping[str, str] | None = None,
) -> None:
    """Merge settings and secrets into an existing endpoint, as ``PUT …/_update`` does."""
    connection, box = _context()
    current = _current(connection, box, inference_id)
    if current is None:
        raise MigrationOpError(f"endpoint [{inference_id}] does not exist")
    body: dict[str, Any] = {}
    new_service = {**(service_settings or {}), **_secrets(inference_id, secrets_from_env or {})}
    if new_service:
        body["service_settings"] = new_service
    if task_settings:
        body["task_settings"] = dict(task_settings)
    updated = merge_update(builtin_registry(), current, body)
    connection.execute(
        update(EndpointRow)
        .where(EndpointRow.inference_id == inference_id)
        .values(**row_values(updated, box), version=current.version + 1, updated_at=func.now())
    )
    changed_sync(connection, ENDPOINTS)


def delete_endpoint(inference_id: str, *, missing_ok: bool = False) -> None:
    """Delete an endpoint; a missing one is an error unless ``missing_ok``."""
    connection = op.get_bind()
    result = connection.execute(delete(EndpointRow).where(EndpointRow.inference_id == inference_id))
    if not result.rowcount:
        if not missing_ok:
            raise MigrationOpError(f"endpoint [{inference_id}] does not exist")
        return
    changed_sync(connection, ENDPOINTS)
