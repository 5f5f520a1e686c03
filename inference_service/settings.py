"""The service's settings: one typed object, read once, passed explicitly.

Sources, later ones winning: the defaults below, one TOML file (the file named by ``--config``
or ``INFERENCE_SERVICE_CONFIG``, else the packaged ``service.toml``, which documents every
default), and environment variables ``INFERENCE_SERVICE_<NAME>`` (upper-cased field names).
No default depends on the working directory. There is no module-level instance:
:func:`load_settings` builds one and callers hand it down (hypercorn workers get the parent's
through :func:`encode_settings`).
"""

from __future__ import annotations

import base64
import importlib.util
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import msgspec
import platformdirs

from inference_service.cors import CorsOriginError, parse_origins
from inference_service.providers.llamacpp.settings import LlamaCppServiceSettings
from inference_service.providers.schema import MAX_UPSTREAM_RETRIES
from inference_service.providers.url_policy import AllowlistError, UrlPolicy
from inference_service.resources import default_hypercorn_config, default_service_config

_LOCAL = LlamaCppServiceSettings()
"""The local model's defaults live in its settings Struct; the settings below start from them."""
ENV_PREFIX = "INFERENCE_SERVICE_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
APP_NAME = "inference-service"

Seconds = Annotated[float, msgspec.Meta(gt=0)]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Every setting of the service; the packaged ``service.toml`` documents each one."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 9280
    workers: Annotated[int, msgspec.Meta(ge=1)] = 1
    tls_certfile: str = ""
    tls_keyfile: str = ""
    tls_ca_certs: str = ""
    data_dir: str = ""
    database_url: str = ""
    secrets_key: str = ""
    secrets_key_file: str = ""
    hypercorn_config: str = ""
    migrations_dir: str = ""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 10 * 1024 * 1024
    max_inputs_per_request: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    embedding_batch_concurrency: Annotated[int, msgspec.Meta(ge=1)] = 4
    max_upstream_response_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024 * 1024
    log_level: LogLevel = "info"
    log_format: Literal["text", "json"] = "text"
    usage_flush_interval: Seconds = 10.0
    shutdown_grace: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    admission_per_round: Annotated[int, msgspec.Meta(ge=0)] = 8
    tracing: bool = False
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
    upstream_max_retries: Annotated[int, msgspec.Meta(ge=0, le=MAX_UPSTREAM_RETRIES)] = 2
    catalog_refresh_interval: Seconds = 0.5
    provider_url_allowlist: str = ""
    auth: Literal["auto", "required", "off"] = "auto"
    auth_failures_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 30
    cors_allow_origins: str = ""
    redis_url: str = ""
    redis_key_prefix: str = "inference-service:"
    cache_max_bytes: Annotated[int, msgspec.Meta(ge=0)] = 64 * 1024 * 1024
    idempotency_ttl: Seconds = 86_400.0

    local_model_endpoints: bool = True
    local_model_preload: bool = False
    local_model_context_size: Annotated[int, msgspec.Meta(ge=256)] = _LOCAL.context_size
    local_model_threads: Annotated[int, msgspec.Meta(ge=1)] = _LOCAL.threads
    local_model_parallel_slots: Annotated[int, msgspec.Meta(ge=1)] = _LOCAL.parallel_slots
    local_model_max_tokens: Annotated[int, msgspec.Meta(ge=1)] = 512

    @property
    def resolved_data_dir(self) -> Path:
        """``data_dir``, or the per-user data directory (``~/.local/share/inference-service``
        on Linux, ``$XDG_DATA_HOME`` respected)."""
        return Path(self.data_dir or platformdirs.user_data_dir(APP_NAME))

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_data_dir.resolve() / 'inference.db'}"

    @property
    def resolved_secrets_key_file(self) -> Path:
        return (
            Path(self.secrets_key_file) if self.secrets_key_file else self.resolved_data_dir / "secrets.key"
        )

    @property
    def scheme(self) -> str:
        """``https`` when the service serves TLS (``tls_certfile`` set), else ``http``."""
        return "https" if self.tls_certfile else "http"

    @property
    def resolved_hypercorn_config(self) -> Path:
        """``hypercorn_config``, or the packaged ``hypercorn.toml``."""
        return Path(self.hypercorn_config) if self.hypercorn_config else default_hypercorn_config()


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
    named = config_file if config_file is not None else env.get(CONFIG_ENV)
    path = Path(named) if named else default_service_config()
    values = read_toml(path)
    unknown = sorted(set(values) - _FIELDS)
    if unknown:
        raise SettingsError(f"config file {path} has unknown settings: {', '.join(unknown)}")
    for name in _FIELDS:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    level = values.get("log_level", "info")
    if level not in LOG_LEVELS:
        allowed = ", ".join(LOG_LEVELS)
        raise SettingsError(f"invalid settings: log_level must be one of {allowed}, not {level!r}")
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid settings: {exc}") from None
    try:
        UrlPolicy.parse(settings.provider_url_allowlist)
    except AllowlistError as exc:
        raise SettingsError(f"invalid settings: {exc}") from None
    try:
        parse_origins(settings.cors_allow_origins)
    except CorsOriginError as exc:
        raise SettingsError(f"invalid settings: {exc}") from None
    if settings.tracing and importlib.util.find_spec("opentelemetry.sdk") is None:
        raise SettingsError(
            "invalid settings: tracing = true needs the otel extra: pip install 'inference-service[otel]'"
        )
    return settings


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; any failure is a :class:`SettingsError` naming the file."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None


def encode_settings(settings: Settings) -> str:
    """``settings`` as one ASCII token without colons or quotes, for :func:`decode_settings`.

    hypercorn hands its Config to spawned workers and each evaluates the application path;
    the token travels in that path (where a colon would be read as a separator).
    """
    return base64.b64encode(msgspec.json.encode(settings)).decode("ascii")


def decode_settings(token: str) -> Settings:
    return msgspec.json.decode(base64.b64decode(token, validate=True), type=Settings)
