"""The ``auth`` setting and the failed-attempt limit, each on its own small service (SQLite)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.service import migrated_service


def _guess(n: int) -> str:
    return "ApiKey " + base64.b64encode(f"guessed-id-{n}:guessed-secret".encode()).decode()


def test_required_needs_a_key_even_on_loopback_before_any_exists(tmp_path: Path) -> None:
    with migrated_service(tmp_path, auth="required") as service:
        assert httpx.get(f"{service.url}/").status_code == 200
        assert httpx.get(f"{service.url}/_inference").status_code == 401
        refused = httpx.put(f"{service.url}/_security/api_key", json={"name": "first"})
        assert refused.status_code == 401


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_off_serves_without_a_key_and_says_so(tmp_path: Path) -> None:
    logger = logging.getLogger("inference_service")
    handler = _Lines()
    logger.addHandler(handler)
    try:
        with migrated_service(tmp_path, auth="off") as service:
            _open_despite_a_key(service.url)
    finally:
        logger.removeHandler(handler)
    assert "auth is off: every request is served without an API key" in handler.lines


def _open_despite_a_key(url: str) -> None:
    made = httpx.put(f"{url}/_security/api_key", json={"name": "unused"})
    assert made.status_code == 200
    assert httpx.get(f"{url}/_inference").status_code == 200  # a key exists, still open
    who = httpx.get(f"{url}/_security/_authenticate").json()
    assert (who["authentication_type"], who["roles"]) == ("anonymous", ["manage"])


def test_failed_attempts_are_limited_per_address(tmp_path: Path) -> None:
    with migrated_service(tmp_path, auth_failures_per_minute=3) as service:
        made = httpx.put(f"{service.url}/_security/api_key", json={"name": "admin"}).json()
        good = {"authorization": "ApiKey " + made["encoded"]}
        assert httpx.get(f"{service.url}/_inference", headers=good).status_code == 200  # verified: cached
        for n in range(3):
            assert (
                httpx.get(f"{service.url}/_inference", headers={"authorization": _guess(n)}).status_code
                == 401
            )
        assert httpx.get(f"{service.url}/_inference").status_code == 401  # no credentials: not an attempt
        limited = httpx.get(f"{service.url}/_inference", headers={"authorization": _guess(3)})
        assert limited.status_code == 429
        assert limited.json()["error"]["type"] == "security_exception"
        assert (
            limited.json()["error"]["reason"]
            == "too many failed authentication attempts from [127.0.0.1]; retry in [20s]"
        )
        assert limited.headers["retry-after"] == "20"
        # The right key is not guessed: one this worker verified still works.
        assert httpx.get(f"{service.url}/_inference", headers=good).status_code == 200
        sdk = openai.OpenAI(base_url=service.url + "/v1", api_key="guess", max_retries=0)
        with sdk, pytest.raises(openai.RateLimitError) as slowed:
            sdk.models.list()
        assert slowed.value.code == "rate_limit_exceeded"
