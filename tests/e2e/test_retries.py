"""Retries before the first byte, end to end: the service under hypercorn, a scripted fake
OpenAI server; the official Elasticsearch client and httpx as clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

CHAT = {"messages": [{"role": "user", "content": "Hi"}]}
SERVER_ERROR = Reply.json(503, fake_openai.error_body("Service unavailable", "server_error"))
_counter = iter(range(10**6))

pytestmark = pytest.mark.usefixtures("fresh_upstream")


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("retries"), catalog_refresh_interval=3600) as running:
        yield running


def endpoint(
    svc: RunningService, upstream: FakeProvider, task_type: str = "chat_completion", **extra: Any
) -> str:
    inference_id = f"retry-{next(_counter)}"
    path = "/v1/chat/completions" if task_type == "chat_completion" else "/v1/embeddings"
    model = "gpt-4o-mini" if task_type == "chat_completion" else fake_embeddings.MODEL
    settings = {"api_key": "sk-test-secret", "model_id": model, "url": upstream.url + path, **extra}
    body = {"service": "openai", "service_settings": settings}
    response = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body)
    assert response.status_code == 200, response.text
    return inference_id


def stream(svc: RunningService, inference_id: str, query: str = "") -> httpx.Response:
    return httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream{query}", json=CHAT, timeout=10
    )


def events(raw: str) -> list[tuple[str, str]]:
    out = []
    for block in raw.split("\n\n"):
        if block:
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            out.append((lines["event"], lines["data"]))
    return out


def text_of(raw: str) -> str:
    parts = []
    for kind, data in events(raw):
        assert kind == "message", data
        if data != "[DONE]":
            for choice in json.loads(data)["choices"]:
                parts.append(choice["delta"].get("content") or "")
    return "".join(parts)


def good_stream(*texts: str) -> Reply:
    return Reply.sse(fake_openai.stream(list(texts)))


def test_a_503_then_a_good_stream_answers_200(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    upstream.enqueue(SERVER_ERROR, good_stream("Hello", " there"))
    response = stream(svc, inference_id)
    assert response.status_code == 200, response.text
    assert text_of(response.text) == "Hello there"
    assert len(upstream.requests) == 2 and upstream.pending == 0


def test_a_429_is_retried_after_its_retry_after(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    limited = fake_openai.rate_limit_exceeded()
    upstream.enqueue(limited.replace(headers=(*limited.headers, ("retry-after", "0.05"))), good_stream("ok"))
    response = stream(svc, inference_id)
    assert response.status_code == 200 and text_of(response.text) == "ok"
    first, second = upstream.requests
    assert second.received_at - first.received_at >= 0.05


def test_a_connection_reset_is_retried(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    upstream.enqueue(Reply.drop("reset"), Reply.drop("eof"), good_stream("again"))
    response = stream(svc, inference_id)
    assert response.status_code == 200 and text_of(response.text) == "again"
    assert len(upstream.requests) == 3


def test_a_failure_after_the_first_chunk_is_an_error_frame_not_a_retry(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hi"])[:2], end="reset"), good_stream("never"))
    response = stream(svc, inference_id)
    assert response.status_code == 200
    got = events(response.text)
    assert got[0][0] == "message" and got[-1][0] == "error"
    assert len(upstream.requests) == 1 and upstream.pending == 1


def test_when_retries_run_out_the_last_error_is_the_answer(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = endpoint(svc, upstream)
    bad_gateway = Reply.json(502, fake_openai.error_body("Bad gateway", "server_error"))
    upstream.enqueue(SERVER_ERROR, SERVER_ERROR, bad_gateway, good_stream("never"))
    response = stream(svc, inference_id)
    assert response.status_code == 502
    [(kind, data)] = events(response.text)
    assert kind == "error" and "status [502]" in json.loads(data)["error"]["message"]
    assert len(upstream.requests) == 3 and upstream.pending == 1  # 1 call + upstream_max_retries (2)


def test_the_endpoint_setting_zero_disables_retries(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=0)
    upstream.enqueue(SERVER_ERROR, good_stream("never"))
    response = stream(svc, inference_id)
    assert response.status_code == 502
    assert len(upstream.requests) == 1
    shown = httpx.get(f"{svc.url}/_inference/chat_completion/{inference_id}").json()
    assert shown["endpoints"][0]["service_settings"]["upstream_max_retries"] == 0


def test_a_final_429_passes_its_retry_after_on(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=1)
    upstream.enqueue(
        fake_openai.rate_limit_exceeded(retry_after=0), fake_openai.rate_limit_exceeded(retry_after=7)
    )
    response = stream(svc, inference_id)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert len(upstream.requests) == 2


def test_a_retry_after_beyond_the_deadline_is_answered_at_once(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = endpoint(svc, upstream)
    upstream.enqueue(fake_openai.rate_limit_exceeded(retry_after=30), good_stream("never"))
    started = time.monotonic()
    response = stream(svc, inference_id, query="?timeout=2s")
    assert response.status_code == 429 and response.headers["retry-after"] == "30"
    assert time.monotonic() - started < 1.5
    assert len(upstream.requests) == 1


def test_a_callers_error_is_not_retried(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    upstream.enqueue(fake_openai.invalid_api_key(), good_stream("never"))
    assert stream(svc, inference_id).status_code == 401
    assert len(upstream.requests) == 1


def test_each_embedding_batch_retries_on_its_own(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream, "text_embedding", dimensions=2)
    upstream.enqueue(SERVER_ERROR, fake_embeddings.reply([[0.5, 0.25]]))
    with Elasticsearch(svc.url) as es:
        answer = es.inference.text_embedding(inference_id=inference_id, input=["hello"])
    assert answer.body["text_embedding"] == [{"embedding": [0.5, 0.25]}]
    assert len(upstream.requests) == 2
