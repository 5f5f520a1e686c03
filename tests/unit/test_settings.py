"""Settings: one object, read once; defaults < TOML file < environment < explicit overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from inference_service import resources
from inference_service.settings import (
    Settings,
    SettingsError,
    decode_settings,
    encode_settings,
    load_settings,
)
from inference_service.store.migrate import MigrationsNotFoundError, migrations_dir

REPO = Path(__file__).resolve().parents[2]


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "service.toml"
    config.write_text('port = 1111\nhost = "0.0.0.0"\nworkers = 3\n')
    settings = load_settings(
        config,
        environ={"INFERENCE_SERVICE_PORT": "2222", "INFERENCE_SERVICE_SSE_BOM": "true"},
        overrides={"workers": 5, "host": None},
    )
    assert (settings.port, settings.host, settings.workers, settings.sse_bom) == (2222, "0.0.0.0", 5, True)
    assert load_settings(config, environ={}).port == 1111


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "other.toml"
    config.write_text("max_body_bytes = 4096\n")
    assert load_settings(environ={"INFERENCE_SERVICE_CONFIG": str(config)}).max_body_bytes == 4096


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        ("porte = 1\n", {}, "unknown settings: porte"),
        ("port = 70000\n", {}, "port"),
        ("", {"INFERENCE_SERVICE_WORKERS": "zero"}, "workers"),
        ("stream_idle_timeout = -1\n", {}, "stream_idle_timeout"),
        ("port = \n", {}, "not valid TOML"),
        ('log_level = "verbose"\n', {}, "log_level must be one of debug, info, warning, error, critical"),
        ("", {"INFERENCE_SERVICE_LOG_LEVEL": "INFO"}, "not 'INFO'"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, toml: str, environ: dict[str, str], message: str) -> None:
    config = tmp_path / "service.toml"
    config.write_text(toml)
    with pytest.raises(SettingsError, match=message):
        load_settings(config, environ=environ)


def test_provider_url_allowlist_is_parsed_at_start_up(tmp_path: Path) -> None:
    env = {"INFERENCE_SERVICE_PROVIDER_URL_ALLOWLIST": "127.0.0.0/8, ::1,vllm.internal"}
    settings = load_settings(_empty(tmp_path), environ=env)
    assert settings.provider_url_allowlist == "127.0.0.0/8, ::1,vllm.internal"
    assert load_settings(_empty(tmp_path), environ={}).provider_url_allowlist == ""


@pytest.mark.parametrize("entry", ["10.0.0.0/40", "http://vllm.internal", "bad name"])
def test_a_bad_provider_url_allowlist_refuses_to_start(tmp_path: Path, entry: str) -> None:
    env = {"INFERENCE_SERVICE_PROVIDER_URL_ALLOWLIST": f"127.0.0.0/8,{entry}"}
    with pytest.raises(SettingsError) as caught:
        load_settings(_empty(tmp_path), environ=env)
    assert str(caught.value) == (
        f"invalid settings: provider_url_allowlist: [{entry}] is neither a CIDR (10.0.0.0/8, fd00::/8, "
        "10.1.2.3) nor a host name (vllm.internal)"
    )


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_the_shipped_config_documents_every_setting_with_its_default() -> None:
    shipped = tomllib.loads(resources.default_service_config().read_text())
    fields = {f.name: f.default for f in msgspec.structs.fields(Settings)}
    assert set(shipped) == set(fields)
    assert shipped == {name: default for name, default in fields.items()}


def test_packaged_files_are_the_top_level_directories_of_the_checkout() -> None:
    """One source: the editable install maps the packaged names onto config/ and migrations/."""
    assert resources.default_service_config() == REPO / "config" / "service.toml"
    assert resources.default_hypercorn_config() == REPO / "config" / "hypercorn.toml"
    assert resources.packaged_migrations() == REPO / "migrations"


def test_no_default_depends_on_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = load_settings(environ={})
    assert settings.resolved_data_dir == tmp_path / "xdg" / "inference-service"
    assert settings.resolved_secrets_key_file == tmp_path / "xdg" / "inference-service" / "secrets.key"
    assert settings.resolved_hypercorn_config == REPO / "config" / "hypercorn.toml"
    assert migrations_dir(settings) == REPO / "migrations"


def test_a_migrations_dir_without_env_py_is_refused(tmp_path: Path) -> None:
    settings = load_settings(_empty(tmp_path), environ={}, overrides={"migrations_dir": str(tmp_path)})
    with pytest.raises(MigrationsNotFoundError, match=r"has no env\.py"):
        migrations_dir(settings)


def test_settings_round_trip_through_the_worker_token(tmp_path: Path) -> None:
    settings = load_settings(
        _empty(tmp_path),
        environ={"INFERENCE_SERVICE_SECRETS_KEY": "a:b\"c'"},
        overrides={"port": 1234, "log_level": "debug", "data_dir": str(tmp_path)},
    )
    token = encode_settings(settings)
    assert not set(token) & set(":'\"")
    assert decode_settings(token) == settings


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)}, config_file=_empty(tmp_path))
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'inference.db'}"
    assert settings.resolved_secrets_key_file == tmp_path / "secrets.key"


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path
