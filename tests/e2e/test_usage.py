"""``GET /_inference/_usage`` end to end: the service under hypercorn with a short
``usage_flush_interval``, a fake OpenAI server whose streams report token usage, requests on
both faces, errors, and key scoping with API keys on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, migrated_service

CHAT = {"messages": [{"role": "user", "content": "Hi"}]}
FLUSH = 0.2


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(
        tmp_path_factory.mktemp("usage"), upstream_max_retries=0, usage_flush_interval=FLUSH
    ) as running:
        yield running


def put_chat(url: str, upstream: FakeProvider, inference_id: str, **headers: str) -> None:
    settings = {
        "api_key": "sk-test",
        "model_id": fake_openai.MODEL,
        "url": upstream.url + "/v1/chat/completions",
    }
    response = httpx.put(
        f"{url}/_inference/chat_completion/{inference_id}",
        json={"service": "openai", "service_settings": settings},
        headers=headers,
    )
    assert response.status_code == 200, response.text


def usage(url: str, query: str = "", **headers: str) -> httpx.Response:
    return httpx.get(f"{url}/_inference/_usage{query}", headers=headers, timeout=10)


def wait_for_requests(url: str, query: str, requests: int, **headers: str) -> dict[str, Any]:
    """The usage answer once its totals count ``requests`` (flushes are asynchronous)."""
    deadline = time.monotonic() + 10
    while True:
        response = usage(url, query, **headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["totals"]["requests"] >= requests or time.monotonic() > deadline:
            return body
        time.sleep(FLUSH / 2)


def test_both_faces_tokens_and_errors_are_counted(svc: RunningService, upstream: FakeProvider) -> None:
    put_chat(svc.url, upstream, "usage-chat")
    upstream.enqueue(
        fake_openai.stream_reply(["Hello"], usage=fake_openai.usage(9, 12)),
        fake_openai.stream_reply(["Hi"], usage=fake_openai.usage(5, 7)),
        fake_openai.server_error(),
    )
    es = httpx.post(f"{svc.url}/_inference/chat_completion/usage-chat/_stream", json=CHAT, timeout=10)
    assert es.status_code == 200 and "Hello" in es.text
    v1 = httpx.post(f"{svc.url}/v1/chat/completions", json={**CHAT, "model": "usage-chat"}, timeout=10)
    assert v1.status_code == 200, v1.text
    failed = httpx.post(f"{svc.url}/_inference/chat_completion/usage-chat", json=CHAT, timeout=10)
    assert failed.status_code >= 500
    assert httpx.get(f"{svc.url}/_inference/usage-chat").status_code == 200  # management: not usage

    body = wait_for_requests(svc.url, "?inference_id=usage-chat", 3)
    hour = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime())
    counts = {"requests": 3, "errors": 1, "input_tokens": 14, "output_tokens": 19}
    assert body["interval"] == "hour" and body["since"] is None and body["until"] is None
    assert body["usage"] == [{"period": hour, "inference_id": "usage-chat", "api_key_id": None, **counts}]
    assert body["totals"] == counts
    by_day = usage(svc.url, "?inference_id=usage-chat&interval=day&since=now-1d&until=now").json()
    assert by_day["usage"][0]["period"] == hour[:10] + "T00:00:00Z" and by_day["totals"] == counts
    assert by_day["since"] == time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 86400))
    future = usage(svc.url, "?since=2999-01-01").json()
    assert future["usage"] == [] and future["totals"] == {k: 0 for k in counts}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?size=10", "contains unrecognized parameter: [size]"),
        ("?interval=week", "invalid [interval] value [week]"),
        ("?since=yesterday", "failed to parse [since] value [yesterday]"),
    ],
)
def test_bad_parameters_are_refused(svc: RunningService, query: str, message: str) -> None:
    response = usage(svc.url, query)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "illegal_argument_exception"
    assert message in response.json()["error"]["reason"]


def test_usage_is_no_inference_id(svc: RunningService) -> None:
    put = httpx.put(f"{svc.url}/_inference/_usage", json={"service": "openai", "service_settings": {}})
    assert put.status_code == 405, put.text
    nested = httpx.put(f"{svc.url}/_inference/chat_completion/_usage", json={})
    assert nested.status_code == 400 and "no handler found" in nested.text  # Elasticsearch's 404


def test_keys_are_shown_by_id_and_a_restricted_key_sees_its_endpoints(tmp_path: Path) -> None:
    with (
        FakeProvider(default=fake_openai.stream_reply(["ok"], usage=fake_openai.usage(2, 3))) as upstream,
        migrated_service(tmp_path, usage_flush_interval=FLUSH) as svc,
    ):
        admin = httpx.put(f"{svc.url}/_security/api_key", json={"name": "admin"}).json()
        manage = {"authorization": "ApiKey " + admin["encoded"]}
        put_chat(svc.url, upstream, "team-a", **manage)
        put_chat(svc.url, upstream, "team-b", **manage)
        scoped = {
            "name": "team-a-monitor",
            "role_descriptors": {
                "r": {
                    "applications": [
                        {
                            "application": "inference-service",
                            "privileges": ["monitor"],
                            "resources": ["team-a"],
                        }
                    ]
                }
            },
        }
        made = httpx.put(f"{svc.url}/_security/api_key", json=scoped, headers=manage).json()
        team_a = {"authorization": "ApiKey " + made["encoded"]}
        for inference_id, headers in (("team-a", team_a), ("team-a", manage), ("team-b", manage)):
            answer = httpx.post(
                f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=CHAT, headers=headers
            )
            assert answer.status_code == 200, answer.text
        assert usage(svc.url).status_code == 401

        everything = wait_for_requests(svc.url, "", 3, **manage)
        rows = {(u["inference_id"], u["api_key_id"]): u["requests"] for u in everything["usage"]}
        assert rows == {("team-a", made["id"]): 1, ("team-a", admin["id"]): 1, ("team-b", admin["id"]): 1}
        assert everything["totals"]["input_tokens"] == 6 and everything["totals"]["output_tokens"] == 9
        for secret in (admin["api_key"], admin["encoded"], made["api_key"], made["encoded"]):
            assert secret not in str(everything)

        seen = usage(svc.url, **team_a).json()
        assert {u["inference_id"] for u in seen["usage"]} == {"team-a"} and seen["totals"]["requests"] == 2
        refused = usage(svc.url, "?inference_id=team-b", **team_a)
        assert refused.status_code == 403 and "team-b" in refused.text
