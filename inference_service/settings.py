"""The service's settings: one typed object, read once, passed explicitly.

Sources, later ones winning: the defaults below, a TOML file (``config/service.toml`` when it
exists, or the file named by ``--config`` / ``INFERENCE_SERVICE_CONFIG``), and environment
variables ``INFERENCE_SERVICE_<NAME>`` (upper-cased field names). There is no module-level
instance: :func:`load_settings` builds one and callers hand it down.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from inference_service.providers.llamacpp.settings import LlamaCppServiceSettings

_LOCAL = LlamaCppServiceSettings()
"""The local model's defaults live in its settings Struct; the settings below start from them."""
ENV_PREFIX = "INFERENCE_SERVICE_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
DEFAULT_CONFIG_FILE = Path("config/service.toml")

Seconds = Annotated[float, msgspec.Meta(gt=0)]


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Every setting of the service; ``config/service.toml`` documents each one."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 9280
    workers: Annotated[int, msgspec.Meta(ge=1)] = 1
    data_dir: str = "data"
    database_url: str = ""
    secrets_key: str = ""
    secrets_key_file: str = ""
    hypercorn_config: str = "config/hypercorn.toml"
    migrations_dir: str = ""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 10 * 1024 * 1024
    max_inputs_per_request: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    embedding_batch_concurrency: Annotated[int, msgspec.Meta(ge=1)] = 4
    max_upstream_response_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024 * 1024
    log_level: str = "info"
    pool_size: Annotated[int, msgspec.Meta(ge=1)] = 10

    chat_completion_timeout: Seconds = 120.0
    completion_timeout: Seconds = 120.0
    default_timeout: Seconds = 30.0
    stream_idle_timeout: Seconds = 60.0
    sse_bom: bool = False
    validate_on_put: bool = True
    upstream_connect_timeout: Seconds = 10.0
    upstream_max_connections: Annotated[int, msgspec.Meta(ge=1)] = 1000
    upstream_keepalive_timeout: Seconds = 30.0
    catalog_refresh_interval: Seconds = 0.5

    local_model_endpoints: bool = True
    local_model_preload: bool = False
    local_model_context_size: Annotated[int, msgspec.Meta(ge=256)] = _LOCAL.context_size
    local_model_threads: Annotated[int, msgspec.Meta(ge=1)] = _LOCAL.threads
    local_model_parallel_slots: Annotated[int, msgspec.Meta(ge=1)] = _LOCAL.parallel_slots
    local_model_max_tokens: Annotated[int, msgspec.Meta(ge=1)] = 512

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'inference.db'}"

    @property
    def resolved_secrets_key_file(self) -> Path:
        return Path(self.secrets_key_file or Path(self.data_dir) / "secrets.key")


class SettingsError(Exception):
    """A configuration problem found at start-up; the message says which source and field."""


_FIELDS = frozenset(field.name for field in msgspec.structs.fields(Settings))


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the TOML file, then ``INFERENCE_SERVICE_*`` variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = Path(config_file or env.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE)
    if config_file is not None or CONFIG_ENV in env or path.exists():
        values.update(_read_toml(path))
    for name in _FIELDS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid settings: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise SettingsError(f"config file {path} has unknown settings: {', '.join(unknown)}")
    return data
