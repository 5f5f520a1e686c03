"""The migration history: pytest-alembic's built-in checks on SQLite and PostgreSQL, and
endpoints managed from a (throw-away) revision through ``migration_ops``."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from pytest_alembic.plugin.fixtures import alembic_runner
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from inference_service.store.migrate import alembic_config as service_alembic_config
from inference_service.store.migrate import upgrade
from inference_service.store.migration_ops import MigrationOpError
from tests.conftest import make_settings
from tests.support.service import run_service

__all__ = [
    "alembic_runner",
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(REPO / "migrations"))
    return config


@pytest.fixture
def alembic_engine(database_url: str) -> Iterator[AsyncEngine]:
    """A fresh database per module and backend (the ``database_url`` fixture)."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    yield engine


def _seed_revision(versions: Path) -> None:
    (versions / "20261201_0000_seed_support_chat_9001.py").write_text(
        '''"""seed the support chat endpoint"""

from inference_service.store import migration_ops

revision = "9001"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.put_endpoint(
        "support-chat",
        task_type="chat_completion",
        service="openai",
        service_settings={"model_id": "gpt-4o-mini"},
        task_settings={"user": "support"},
        secrets_from_env={"api_key": "SEED_TEST_OPENAI_KEY"},
    )
    migration_ops.update_endpoint("support-chat", task_settings={"user": "support-desk"})


def downgrade() -> None:
    migration_ops.delete_endpoint("support-chat")
'''
    )


def _seeded_settings(tmp_path: Path) -> Any:
    shutil.copytree(
        REPO / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    _seed_revision(tmp_path / "migrations" / "versions")
    return make_settings(tmp_path / "data", migrations_dir=str(tmp_path / "migrations"))


def test_endpoints_seeded_by_a_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _seeded_settings(tmp_path)
    monkeypatch.setenv("SEED_TEST_OPENAI_KEY", "sk-seeded-secret-1234")
    upgrade(settings)
    with run_service(settings) as service:
        got = httpx.get(f"{service.url}/_inference/support-chat")
        assert got.status_code == 200
        assert got.json()["endpoints"] == [
            {
                "inference_id": "support-chat",
                "task_type": "chat_completion",
                "service": "openai",
                "service_settings": {"model_id": "gpt-4o-mini", "rate_limit": {"requests_per_minute": 500}},
                "task_settings": {"user": "support-desk"},
            }
        ]
        assert "sk-seeded" not in got.text
        resolved = service.app.state.services.catalog.endpoints
        assert [e.endpoint.secrets for e in resolved if e.endpoint.inference_id == "support-chat"] == [
            {"api_key": "sk-seeded-secret-1234"}
        ]
    command.downgrade(service_alembic_config(settings), "0005")
    with run_service(make_settings(tmp_path / "data")) as service:
        assert httpx.get(f"{service.url}/_inference/support-chat").status_code == 404


def test_revision_fails_without_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _seeded_settings(tmp_path)
    monkeypatch.delenv("SEED_TEST_OPENAI_KEY", raising=False)
    with pytest.raises(MigrationOpError, match="SEED_TEST_OPENAI_KEY"):
        upgrade(settings)
    command.upgrade(service_alembic_config(settings), "0005")
    with run_service(make_settings(tmp_path / "data")) as service:
        assert httpx.get(f"{service.url}/_inference/support-chat").status_code == 404


def _served_ids(service: Any) -> set[str]:
    return {e.endpoint.inference_id for e in service.app.state.services.catalog.endpoints}


def _wait_for(predicate: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_running_worker_follows_endpoint_changes_made_by_revisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revisions bump the catalog revision, so a running worker drops a deleted endpoint and
    picks up a created one within ``catalog_refresh_interval`` (it used to serve the stale
    endpoint until restarted)."""
    monkeypatch.setenv("SEED_TEST_OPENAI_KEY", "sk-seeded-secret-1234")
    seeded = _seeded_settings(tmp_path)
    settings = make_settings(
        tmp_path / "data", migrations_dir=seeded.migrations_dir, catalog_refresh_interval=0.1
    )
    upgrade(settings)
    config = service_alembic_config(settings)
    with run_service(settings) as service:
        assert "support-chat" in _served_ids(service)
        command.downgrade(config, "0005")
        assert _wait_for(lambda: "support-chat" not in _served_ids(service))
        command.upgrade(config, "head")
        assert _wait_for(lambda: "support-chat" in _served_ids(service))
