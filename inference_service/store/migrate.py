"""Schema management through alembic: the only way the schema is created or changed.

The scripts are the packaged migrations (:func:`~inference_service.resources.packaged_migrations`)
unless the ``migrations_dir`` setting names a copy, e.g. one with endpoint-seeding revisions.
No ``alembic.ini`` is read: the service's settings are the whole configuration.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from inference_service.resources import packaged_migrations
from inference_service.settings import Settings
from inference_service.store.engine import open_connection


class SchemaNotCurrentError(Exception):
    """The database is not at the latest migration; the message names the command to run."""


class MigrationsNotFoundError(Exception):
    """``migrations_dir`` names a directory that holds no alembic scripts."""


def migrations_dir(settings: Settings) -> Path:
    if not settings.migrations_dir:
        return packaged_migrations()
    configured = Path(settings.migrations_dir)
    if not (configured / "env.py").is_file():
        raise MigrationsNotFoundError(f"migrations_dir [{configured}] has no env.py")
    return configured


def alembic_config(settings: Settings) -> Config:
    """An alembic Config for ``settings``' database, with no need for a working directory."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(settings)))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def head_revisions(settings: Settings) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with open_connection(engine) as connection:
        heads = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
    return set(heads)


async def ensure_schema_current(engine: AsyncEngine, settings: Settings) -> None:
    current, heads = await current_revisions(engine), head_revisions(settings)
    if current != heads:
        shown = ", ".join(sorted(current)) or "empty (no schema)"
        raise SchemaNotCurrentError(
            f"the database schema is at [{shown}] but this version needs [{', '.join(sorted(heads))}]; "
            "run `inference-service db upgrade` (or start with `inference-service serve --migrate`)"
        )
