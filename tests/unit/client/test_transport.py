"""Client options: arguments, then the environment, then the default; bad values refused early."""

from __future__ import annotations

import pytest

from inference_service.client.transport import DEFAULT_URL, Options


def test_defaults_and_environment() -> None:
    assert Options.resolve(None, None, 60, 2, environ={}) == Options(DEFAULT_URL, None, 60.0, 2)
    env = {"INFERENCE_SERVICE_URL": "https://inference.test:9443/", "INFERENCE_SERVICE_API_KEY": "a2V5"}
    from_env = Options.resolve(None, None, 5, 0, environ=env)
    assert (from_env.base_url, from_env.api_key) == ("https://inference.test:9443", "a2V5")
    assert from_env.headers()["authorization"] == "ApiKey a2V5"
    given = Options.resolve("http://127.0.0.1:1", "b3RoZXI=", 5, 0, environ=env)
    assert (given.base_url, given.api_key) == ("http://127.0.0.1:1", "b3RoZXI=")
    assert "authorization" not in Options.resolve(None, None, 1, 0, environ={}).headers()
    assert Options.resolve(None, None, 1, 0, environ={"INFERENCE_SERVICE_API_KEY": ""}).api_key is None


@pytest.mark.parametrize(
    ("url", "key", "timeout", "retries", "message"),
    [
        ("ftp://x", None, 1, 0, "base_url"),
        ("http://", None, 1, 0, "base_url"),
        (None, "a\nb", 1, 0, "api_key"),
        (None, " ", 1, 0, "api_key"),
        (None, None, 0, 0, "timeout"),
        (None, None, True, 0, "timeout"),
        (None, None, 1, -1, "max_retries"),
        (None, None, 1, 1.5, "max_retries"),
    ],
)
def test_bad_options(url: str | None, key: str | None, timeout: float, retries: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Options.resolve(url, key, timeout, retries, environ={})


def test_a_calls_timeout() -> None:
    options = Options.resolve(None, None, 30, 1, environ={})
    assert options.attempts(None).timeout == 30 and options.attempts(2).timeout == 2
    with pytest.raises(ValueError, match="timeout"):
        options.attempts(0)
