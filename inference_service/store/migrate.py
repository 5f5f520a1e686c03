"""Schema management through alembic: the only way the schema is created or changed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from inference_service.settings import Settings

_REPO_ROOT = Path(__file__).resolve().parents[2]


class SchemaNotCurrentError(Exception):
    """The database is not at the latest migration; the message names the command to run."""


def _migrations_dir(settings: Settings) -> Path:
    if settings.migrations_dir:
        configured = Path(settings.migrations_dir)
        if not (configured / "env.py").is_file():
            raise FileNotFoundError(f"migrations_dir [{configured}] has no env.py")
        return configured
    for candidate in (Path.cwd() / "migrations", _REPO_ROOT / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("cannot find the migrations/ directory (run from the project root)")


def alembic_config(settings: Settings) -> Config:
    """An alembic Config for ``settings``' database, with no need for a working directory."""
    migrations = _migrations_dir(settings)
    ini = migrations.parent / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def head_revisions(settings: Settings) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
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
