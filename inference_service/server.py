"""Run the app under hypercorn, with its tuning from ``config/hypercorn.toml``."""

from __future__ import annotations

import resource
from pathlib import Path

from hypercorn.config import Config
from hypercorn.run import run

from inference_service.settings import Settings

APP_FACTORY = "inference_service.app:create_app_from_environment()"


def hypercorn_config(settings_host: str, settings_port: int, workers: int, config_file: str) -> Config:
    path = Path(config_file)
    config = Config.from_toml(path) if path.is_file() else Config()
    config.bind = [f"{settings_host}:{settings_port}"]
    config.application_path = APP_FACTORY
    # One worker runs in this process (hypercorn's workers=0); more are spawned processes.
    config.workers = 0 if workers == 1 else workers
    try:
        import uvloop  # noqa: F401

        config.worker_class = "uvloop"
    except ImportError:
        config.worker_class = "asyncio"
    return config


def raise_open_file_limit() -> None:
    """Each stream holds two sockets (client and provider): lift the soft descriptor limit to
    the hard one, as servers do, so thousands of concurrent streams do not fail on ``EMFILE``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_server(settings: Settings) -> int:
    raise_open_file_limit()
    config = hypercorn_config(settings.host, settings.port, settings.workers, settings.hypercorn_config)
    return int(run(config) or 0)
