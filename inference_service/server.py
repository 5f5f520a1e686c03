"""Run the app under hypercorn.

hypercorn's tuning (backlog, keep-alive, logs) comes from a TOML file, the packaged
``hypercorn.toml`` unless ``hypercorn_config`` names another; what the service settings own
(address, workers, log level, the application) comes from :class:`Settings` and is refused in
that file, so there is one place for each. Workers receive the resolved settings inside the
application path (see :func:`application_path`), never through the environment.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from hypercorn.config import Config, Sockets
from hypercorn.utils import write_pid_file

from inference_service.logs import SERVER_LOGGER
from inference_service.observe.metrics import MULTIPROC_ENV
from inference_service.settings import Settings, SettingsError, encode_settings, read_toml
from inference_service.supervisor import supervise
from inference_service.tls import OWNED_KEYS as TLS_KEYS
from inference_service.tls import apply_tls, check_tls
from inference_service.worker import serve_worker

APP_MODULE = "inference_service.app"

# hypercorn keys set from the service settings, with the setting to use instead.
OWNED_KEYS = {
    "bind": "host and port",
    "workers": "workers",
    "loglevel": "log_level",
    "application_path": "none: the service sets it",
    "worker_class": "none: the service sets it",
    "quic_bind": "none: HTTP/3 is not served",
    "use_reloader": "none: not supported by the service's workers",
    "max_requests": "none: not supported by the service's workers",
    "max_requests_jitter": "none: not supported by the service's workers",
    **TLS_KEYS,
}

log = logging.getLogger("inference_service.server")


class ListenError(Exception):
    """The address cannot be bound (in use, not permitted, unknown host)."""


class ServiceConfig(Config):
    """hypercorn's Config, reporting a failure to bind as a :class:`ListenError`.

    sockets are bound in :func:`run_server` (``create_sockets``), so this is the one place that can tell
    a bind failure from any other ``OSError``. Workers unpickle it by this module's name.
    """

    settings_file = ""  # the hypercorn TOML file this was read from, for the start-up log line
    tls_note = ""  # how TLS is set up, for the start-up log line ("" = plain http)

    def create_sockets(self) -> Sockets:
        try:
            sockets = super().create_sockets()
        except OSError as exc:
            raise ListenError(f"cannot listen on {', '.join(self.bind)}: {exc.strerror or exc}") from None
        log.info("hypercorn settings from %s", self.settings_file)
        if self.tls_note:
            log.info("%s", self.tls_note)
        return sockets


def _settable_keys() -> frozenset[str]:
    """hypercorn ignores keys it does not know; a typo here should not go unnoticed."""
    names = set()
    for name, value in vars(Config).items():
        if isinstance(value, property):
            if value.fset is not None:
                names.add(name)
        elif not (name.startswith("_") or callable(value) or isinstance(value, classmethod | staticmethod)):
            names.add(name)
    return frozenset(names)


def application_path(settings: Settings) -> str:
    """What hypercorn evaluates in each worker to build the app: the settings travel inside."""
    return f'{APP_MODULE}:create_app_from_encoded("{encode_settings(settings)}")'


def hypercorn_config(settings: Settings) -> ServiceConfig:
    path = settings.resolved_hypercorn_config
    values = read_toml(path)
    owned = sorted(set(values) & set(OWNED_KEYS))
    if owned:
        instead = "; ".join(f"{key}: {OWNED_KEYS[key]}" for key in owned)
        raise SettingsError(f"hypercorn config {path} sets what the service settings own ({instead})")
    unknown = sorted(set(values) - _settable_keys())
    if unknown:
        raise SettingsError(f"hypercorn config {path} has unknown settings: {', '.join(unknown)}")
    tls = check_tls(settings)  # unusable TLS files stop the start here, as one error line
    config = ServiceConfig()
    config.settings_file = str(path)
    config.tls_note = tls.describe() if tls else ""
    for key, value in values.items():
        setattr(config, key, value)
    config.bind = [f"{settings.host}:{settings.port}"]
    config.loglevel = settings.log_level.upper()
    if config.errorlog == "-":  # stderr: through the service's log writer (logs.SERVER_LOGGER)
        config.errorlog = logging.getLogger(SERVER_LOGGER)
    config.application_path = application_path(settings)
    apply_tls(config, tls)
    # One worker runs in this process (hypercorn's workers=0); more are spawned processes.
    config.workers = 0 if settings.workers == 1 else settings.workers
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


def run_server(config: Config) -> int:
    """Serve until stopped; ``config`` comes from :func:`hypercorn_config`.

    hypercorn's pieces, the service's shutdown: one worker runs in this process
    (:func:`inference_service.worker.serve_worker`), more under
    :func:`inference_service.supervisor.supervise` (see those modules for the drain)."""
    raise_open_file_limit()
    if config.pid_path is not None:
        write_pid_file(config.pid_path)
    sockets = config.create_sockets()
    with metrics_directory(config.workers):
        if config.workers == 0:
            serve_worker(config, sockets)
            return 0
        return supervise(config, sockets)


@contextmanager
def metrics_directory(workers: int) -> Iterator[None]:
    """With several worker processes, a fresh ``PROMETHEUS_MULTIPROC_DIR`` for them to write
    their metrics to (prometheus_client's multiprocess mode: ``/metrics`` on any worker adds
    them all up), removed when the server stops; one set by the operator is used as it is."""
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="inference-service-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)
