"""The ``cors_allow_origins`` setting: exact origins or ``*``, refused at start-up otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_service.cors import CorsOriginError, cors_middleware, parse_origins
from inference_service.settings import SettingsError, load_settings


def test_origins_are_exact_and_lower_cased() -> None:
    assert parse_origins(" https://App.example.com , http://localhost:5173,,") == [
        "https://app.example.com",
        "http://localhost:5173",
    ]
    assert parse_origins("*") == ["*"]
    assert parse_origins("") == []


@pytest.mark.parametrize(
    "origin",
    [
        "app.example.com",
        "ftp://example.com",
        "https://example.com/",
        "https://example.com/app",
        "https://user@example.com",
        "https://example.com?x=1",
        "https://",
    ],
)
def test_anything_but_an_origin_is_refused(origin: str) -> None:
    with pytest.raises(CorsOriginError, match=r"cors_allow_origins: \[.*\] is not an origin"):
        parse_origins(origin)


def test_no_origin_no_middleware() -> None:
    assert cors_middleware("") == []
    assert len(cors_middleware("https://app.example.com")) == 1


def test_a_bad_origin_is_a_settings_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_SERVICE_CORS_ALLOW_ORIGINS", "https://ok.example, example.com/app")
    with pytest.raises(SettingsError, match=r"invalid settings: cors_allow_origins: \[example.com/app\]"):
        load_settings(None)
