"""The hypercorn Config that ``serve`` builds: tuning from the packaged file, the rest from
the service settings, handed to workers inside the application path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference_service.logs import ROOT_LOGGER, JsonFormatter, configure_logging
from inference_service.server import hypercorn_config
from inference_service.settings import Settings, SettingsError, decode_settings, load_settings


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    return load_settings(empty, environ={}, overrides={"data_dir": str(tmp_path), **overrides})


def test_tuning_from_the_packaged_file_the_rest_from_the_settings(tmp_path: Path) -> None:
    settings = _settings(tmp_path, host="127.0.0.2", port=4321, workers=3, log_level="warning")
    config = hypercorn_config(settings)
    assert config.backlog == 2048  # the packaged hypercorn.toml, not hypercorn's 100
    assert (config.bind, config.workers, config.loglevel) == (["127.0.0.2:4321"], 3, "WARNING")
    assert config.settings_file.endswith("hypercorn.toml")
    assert hypercorn_config(_settings(tmp_path)).workers == 0  # one worker: in this process


def test_workers_get_the_settings_in_the_application_path(tmp_path: Path) -> None:
    settings = _settings(tmp_path, port=4321, validate_on_put=False)
    path = hypercorn_config(settings).application_path
    # hypercorn reads "mode:module:app" when there are two colons: there must be one.
    module, expression = path.split(":")
    assert module == "inference_service.app"
    assert expression.startswith('create_app_from_encoded("') and expression.endswith('")')
    assert decode_settings(expression[len('create_app_from_encoded("') : -2]) == settings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('bind = ["0.0.0.0:80"]\n', "sets what the service settings own \\(bind: host and port\\)"),
        ('loglevel = "DEBUG"\n', "loglevel: log_level"),
        ("workers = 4\n", "workers: workers"),
        ('quic_bind = ["127.0.0.1:4433"]\n', "quic_bind: none: HTTP/3 is not served"),
        ("max_requests = 1000\n", "max_requests: none: not supported"),
        ("backlg = 10\n", "unknown settings: backlg"),
        ("ssl_enabled = true\n", "unknown settings: ssl_enabled"),
        ("backlog = \n", "not valid TOML"),
    ],
)
def test_bad_hypercorn_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hypercorn.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        hypercorn_config(_settings(tmp_path, hypercorn_config=str(path)))


def test_a_named_hypercorn_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file not found"):
        hypercorn_config(_settings(tmp_path, hypercorn_config=str(tmp_path / "missing.toml")))


@pytest.fixture
def service_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger(ROOT_LOGGER)
    saved = (logger.level, list(logger.handlers), logger.propagate)
    yield logger
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]


def test_log_level_sets_the_service_loggers_once(service_logger: logging.Logger) -> None:
    configure_logging("warning")
    configure_logging("debug")
    assert service_logger.level == logging.DEBUG
    assert len([h for h in service_logger.handlers if h.get_name() == "inference_service.queue"]) == 1
    assert logging.getLogger("inference_service.catalog").getEffectiveLevel() == logging.DEBUG


def test_the_json_log_format_is_one_object_per_line_with_the_request_fields() -> None:
    formatter = JsonFormatter()
    plain = logging.LogRecord(
        "inference_service.catalog", logging.WARNING, __file__, 1, "reloaded %d", (3,), None
    )
    assert json.loads(formatter.format(plain)) == {
        "time": json.loads(formatter.format(plain))["time"],
        "level": "warning",
        "logger": "inference_service.catalog",
        "message": "reloaded 3",
    }
    line = logging.LogRecord(
        "inference_service.requests", logging.INFO, __file__, 1, "request %s", ("x",), None
    )
    line.request = {"request_id": "r1", "status": 200}
    parsed = json.loads(formatter.format(line))
    assert (parsed["message"], parsed["request_id"], parsed["status"]) == ("request", "r1", 200)
    assert parsed["time"].endswith("Z") and "T" in parsed["time"]
