"""Settings: one object, read once; defaults < TOML file < environment < explicit overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from inference_service.settings import Settings, SettingsError, load_settings

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
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, toml: str, environ: dict[str, str], message: str) -> None:
    config = tmp_path / "service.toml"
    config.write_text(toml)
    with pytest.raises(SettingsError, match=message):
        load_settings(config, environ=environ)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_the_shipped_config_documents_every_setting_with_its_default() -> None:
    shipped = tomllib.loads((REPO / "config" / "service.toml").read_text())
    fields = {f.name: f.default for f in msgspec.structs.fields(Settings)}
    assert set(shipped) == set(fields)
    assert shipped == {name: default for name, default in fields.items()}


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)}, config_file=_empty(tmp_path))
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'inference.db'}"
    assert settings.resolved_secrets_key_file == tmp_path / "secrets.key"


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path
