"""Fixtures: settings on a real database (SQLite file or throw-away PostgreSQL), migrated with
alembic, and one real service under hypercorn per test module and backend."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference_service.settings import Settings, load_settings
from inference_service.store.migrate import upgrade
from tests.support.databases import throwaway_postgres
from tests.support.service import RunningService, run_service

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TEST_KEY = base64.b64encode(b"k" * 32).decode()


def make_settings(data_dir: Path, database_url: str = "", **extra: Any) -> Settings:
    """Settings that ignore the developer's environment and config file.

    The PUT validation call is off unless a test turns it on: management tests use endpoints
    whose provider does not exist.
    """
    extra.setdefault("validate_on_put", False)
    data_dir.mkdir(parents=True, exist_ok=True)
    empty = data_dir / "empty.toml"
    empty.write_text("")
    return load_settings(
        config_file=empty,
        environ={},
        overrides={"data_dir": str(data_dir), "database_url": database_url, **extra},
    )


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database per module: a SQLite file or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        with throwaway_postgres() as url:
            yield url


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings on a database migrated to head with alembic."""
    settings = make_settings(tmp_path_factory.mktemp("data"), database_url)
    upgrade(settings)
    return settings


@pytest.fixture(scope="module")
def service(settings: Settings) -> Iterator[RunningService]:
    with run_service(settings) as running:
        yield running
