"""Fixtures: settings on a real database (SQLite file or throw-away PostgreSQL), migrated with
alembic, and one real service under hypercorn per test module and backend."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference_service.logs import ROOT_LOGGER, SERVER_LOGGER
from inference_service.settings import Settings, load_settings
from inference_service.store.migrate import upgrade
from tests.support.databases import throwaway_postgres
from tests.support.network_guard import NetworkGuard
from tests.support.service import RunningService, run_service

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TEST_KEY = base64.b64encode(b"k" * 32).decode()
TEST_ALLOWLIST = "127.0.0.0/8,::1"
"""The fake providers listen on 127.0.0.1: the suite's settings allow loopback, nothing else."""

_NETWORK = NetworkGuard()


@pytest.fixture(scope="session", autouse=True)
def network_backstop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkGuard]:
    """No test sends traffic outside 127.0.0.0/8 or looks up a public name (see network_guard),
    nor does a process a test starts."""
    _NETWORK.install()
    _NETWORK.cover_child_processes(tmp_path_factory.mktemp("backstop") / "violations.log")
    try:
        yield _NETWORK
    finally:
        _NETWORK.uninstall()


@pytest.fixture(autouse=True)
def service_logging_restored() -> Iterator[None]:
    """A test that runs the CLI or a worker entry point in process configures the service's
    logging (a queue to the log writer, no propagation): undo that after it, so later tests
    in the same process see the service's records through pytest's capture as usual."""
    loggers = [logging.getLogger(name) for name in (ROOT_LOGGER, SERVER_LOGGER)]
    saved = [(logger, list(logger.handlers), logger.propagate, logger.level) for logger in loggers]
    yield
    for logger, handlers, propagate, level in saved:
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)


@pytest.fixture(autouse=True)
def no_forbidden_network(network_backstop: NetworkGuard) -> Iterator[None]:
    """Fail the test, at teardown, that made a forbidden attempt (even one its code swallowed)."""
    network_backstop.take()
    yield
    violations = network_backstop.take()
    if violations:
        pytest.fail("\n".join(violations), pytrace=False)


def make_settings(data_dir: Path, database_url: str = "", **extra: Any) -> Settings:
    """Settings that ignore the developer's environment and config file.

    The PUT validation call is off unless a test turns it on: management tests use endpoints
    whose provider does not exist. The provider URL allow-list admits loopback (the fakes).
    """
    extra.setdefault("validate_on_put", False)
    extra.setdefault("provider_url_allowlist", TEST_ALLOWLIST)
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
