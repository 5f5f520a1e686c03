"""The files the distribution carries besides code: default configuration and migrations.

They are found with :mod:`importlib.resources`, never relative to the working directory, so
the installed command behaves the same from any directory. In the source tree they are the
top-level ``config/`` and ``migrations/`` directories, the one copy; setup.py ships them as the
packages ``inference_service._config`` and ``inference_service._migrations`` (an editable
install maps those names back to the same directories).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CONFIG_PACKAGE = "inference_service._config"
MIGRATIONS_PACKAGE = "inference_service._migrations"


class MissingResourceError(Exception):
    """The installation lacks a file it ships: a partial or broken install."""


def _package_dir(package: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise MissingResourceError(
            f"the package {package} is missing from this installation; reinstall inference-service"
        ) from None
    # alembic and hypercorn open real files: a zipped install has none to hand them.
    if not isinstance(root, Path):
        raise MissingResourceError(f"{package} is not a directory on disk ({root}); install unzipped")
    return root


def _packaged_file(package: str, name: str) -> Path:
    path = _package_dir(package) / name
    if not path.is_file():
        raise MissingResourceError(f"{path} is missing from this installation; reinstall inference-service")
    return path


def default_service_config() -> Path:
    """The documented default settings file, read when no other is named."""
    return _packaged_file(CONFIG_PACKAGE, "service.toml")


def default_hypercorn_config() -> Path:
    """hypercorn's tuning (backlog, keep-alive, logs) unless ``hypercorn_config`` names a file."""
    return _packaged_file(CONFIG_PACKAGE, "hypercorn.toml")


def packaged_migrations() -> Path:
    """The alembic scripts directory (``env.py``, ``versions/``) unless ``migrations_dir`` is set."""
    return _packaged_file(MIGRATIONS_PACKAGE, "env.py").parent
