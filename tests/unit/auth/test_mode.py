"""The ``auth`` setting (inference_service.auth.mode)."""

from __future__ import annotations

import pytest

from inference_service.auth.mode import loopback_only, open_without_keys, startup_refusal


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("example.internal", False),
    ],
)
def test_loopback_only(host: str, loopback: bool) -> None:
    assert loopback_only(host) is loopback


def test_open_only_in_auto_on_loopback() -> None:
    assert open_without_keys("auto", "127.0.0.1")
    assert not open_without_keys("auto", "0.0.0.0")
    assert not open_without_keys("required", "127.0.0.1")


def test_startup_refusal() -> None:
    refusal = startup_refusal("auto", "0.0.0.0", 0)
    assert refusal is not None and "inference-service api-keys create" in refusal and "\n" not in refusal
    assert startup_refusal("required", "::", 0) is not None
    assert startup_refusal("auto", "0.0.0.0", 1) is None
    assert startup_refusal("off", "0.0.0.0", 0) is None
    assert startup_refusal("required", "127.0.0.1", 0) is None  # usable once a key is made
