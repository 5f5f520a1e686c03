"""Idempotency keys across services: TTL expiry, a restart on the same SQLite file, two
services sharing one Redis, the scope of API keys, and a store that cannot be reached.
Each test runs services of its own (settings differ per test)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, migrated_service, run_service

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
REDIS_URL = "redis://127.0.0.1:6379/0"


def chat_endpoint(service: RunningService, upstream: FakeProvider, header: str | None = None) -> str:
    settings = {
        "api_key": "sk-idem",
        "model_id": fake_openai.MODEL,
        "url": upstream.url + "/v1/chat/completions",
        "upstream_max_retries": 0,
    }
    headers = {"authorization": header} if header else {}
    created = httpx.put(
        f"{service.url}/_inference/chat_completion/chat",
        json={"service": "openai", "service_settings": settings},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    return "chat"


def chat(service: RunningService, idem: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{service.url}/_inference/chat_completion/chat",
        json=CHAT,
        headers={"idempotency-key": idem, **headers},
        timeout=30,
    )


def test_an_outcome_expires_after_idempotency_ttl(tmp_path: Path) -> None:
    with FakeProvider() as upstream, migrated_service(tmp_path, idempotency_ttl=0.5) as service:
        chat_endpoint(service, upstream)
        upstream.enqueue(fake_openai.stream_reply(["one"]), fake_openai.stream_reply(["two"]))
        assert "one" in chat(service, "ttl").text
        assert chat(service, "ttl").headers["idempotent-replayed"] == "true"
        time.sleep(0.6)
        fresh = chat(service, "ttl")
        assert "two" in fresh.text and "idempotent-replayed" not in fresh.headers
        assert len(upstream.requests) == 2


def test_an_outcome_survives_a_restart(tmp_path: Path) -> None:
    with FakeProvider() as upstream:
        with migrated_service(tmp_path) as first:
            chat_endpoint(first, upstream)
            upstream.enqueue(fake_openai.stream_reply(["before the restart"]))
            original = chat(first, "restart")
            assert original.status_code == 200
        with run_service(first.settings) as second:
            replayed = chat(second, "restart")
        assert replayed.headers["idempotent-replayed"] == "true" and replayed.content == original.content
        assert len(upstream.requests) == 1


def test_two_services_on_one_redis_share_keys(tmp_path: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    overrides: dict[str, Any] = {"redis_url": REDIS_URL, "redis_key_prefix": prefix}
    with (
        FakeProvider() as upstream,
        migrated_service(tmp_path / "a", **overrides) as a,
        migrated_service(tmp_path / "b", **overrides) as b,
    ):
        chat_endpoint(a, upstream)
        chat_endpoint(b, upstream)
        upstream.enqueue(fake_openai.stream_reply(["from a"]))
        original = chat(a, "shared")
        assert original.status_code == 200, original.text
        replayed = chat(b, "shared")
        assert replayed.headers["idempotent-replayed"] == "true" and replayed.content == original.content
        assert len(upstream.requests) == 1
        lonely = migrated_service(tmp_path / "c", redis_url=REDIS_URL, redis_key_prefix=prefix + "other:")
        with lonely as c:
            chat_endpoint(c, upstream)
            upstream.enqueue(fake_openai.stream_reply(["from c"]))
            assert "from c" in chat(c, "shared").text  # another prefix, another set of keys


def test_the_key_is_scoped_by_api_key(tmp_path: Path) -> None:
    with FakeProvider() as upstream, migrated_service(tmp_path) as service:
        chat_endpoint(service, upstream)
        upstream.enqueue(*(fake_openai.stream_reply([text]) for text in ("anon", "first", "second")))
        assert "anon" in chat(service, "scoped").text  # still open: the anonymous scope

        def new_key(name: str, header: str | None) -> str:
            made = httpx.put(
                f"{service.url}/_security/api_key",
                json={"name": name},
                headers={"authorization": header} if header else {},
            )
            assert made.status_code == 200, made.text
            return "ApiKey " + str(made.json()["encoded"])

        first = new_key("first", None)
        second = new_key("second", first)
        answers = [chat(service, "scoped", authorization=header) for header in (first, first, second)]
        assert ["first" in answers[0].text, answers[1].headers.get("idempotent-replayed")] == [True, "true"]
        assert "second" in answers[2].text and "idempotent-replayed" not in answers[2].headers
        assert len(upstream.requests) == 3
        refused = chat(service, "scoped")  # no key: 401 before any key is read or claimed
        assert refused.status_code == 401


@pytest.mark.parametrize("face", ["es", "openai"])
def test_an_unreachable_store_refuses_the_request_with_a_503(tmp_path: Path, face: str) -> None:
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with FakeProvider() as upstream, migrated_service(tmp_path, redis_url=unreachable) as service:
        chat_endpoint(service, upstream)
        if face == "es":
            refused = chat(service, "down")
            assert refused.json()["error"]["type"] == "status_exception"
        else:
            refused = httpx.post(
                f"{service.url}/v1/chat/completions",
                json={"model": "chat", **CHAT},
                headers={"idempotency-key": "down"},
            )
            assert refused.json()["error"]["type"] == "server_error"
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert "idempotency store is unavailable" in refused.text
        assert not upstream.requests
