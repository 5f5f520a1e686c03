"""The response cache end to end: the service under hypercorn, fake OpenAI and Cohere servers,
httpx, the official Elasticsearch client and the openai SDK as clients; the in-process store
and, in the last tests, Redis on 127.0.0.1:6379 shared by two services."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from elasticsearch import Elasticsearch

from tests.conftest import make_settings
from tests.fakes import cohere
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service, run_service

CHAT = {"messages": [{"role": "user", "content": "Hi"}], "temperature": 0.0}
_ids = itertools.count()

pytestmark = pytest.mark.usefixtures("fresh_upstream")


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("cache"), upstream_max_retries=0) as running:
        yield running


def put(svc: RunningService, upstream: FakeProvider, task_type: str = "chat_completion", **body: Any) -> str:
    inference_id = f"cached-{next(_ids)}"
    if task_type == "rerank":
        settings = {"api_key": "k", "model_id": cohere.RERANK_MODEL, "url": upstream.url + "/v2/rerank"}
        service = "cohere"
    else:
        path = "/v1/chat/completions" if task_type == "chat_completion" else "/v1/embeddings"
        model = "gpt-4o-mini" if task_type == "chat_completion" else fake_embeddings.MODEL
        settings = {"api_key": "sk-test", "model_id": model, "url": upstream.url + path}
        service = "openai"
    payload = {"service": service, "service_settings": settings, "cache": {"ttl": "10m"}, **body}
    response = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}", json=payload)
    assert response.status_code == 200, response.text
    return inference_id


def stream(svc: RunningService, inference_id: str, body: Any = CHAT, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=body, headers=headers, timeout=10
    )


def good_stream(*texts: str) -> Reply:
    return fake_openai.stream_reply(list(texts))


def test_a_stream_is_replayed_byte_for_byte_without_calling_the_provider(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("Hello", " there"))
    first = stream(svc, inference_id)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache"] == "miss" and "age" not in first.headers
    second = stream(svc, inference_id)
    assert second.status_code == 200
    assert second.headers["x-cache"] == "hit" and int(second.headers["age"]) >= 0
    assert second.content == first.content and "Hello there" in "".join(_texts(first.text))
    assert len(upstream.requests) == 1


def test_a_non_streaming_chat_is_answered_from_the_streams_entry(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("Cached", " answer"))
    assert stream(svc, inference_id).status_code == 200
    answer = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}", json=CHAT, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-cache"] == "hit"
    assert answer.json()["choices"][0]["message"]["content"] == "Cached answer"
    assert len(upstream.requests) == 1


def test_the_key_covers_the_body_but_not_its_key_order_or_the_timeout(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("a"), good_stream("b"))
    assert stream(svc, inference_id).headers["x-cache"] == "miss"
    reordered = {"temperature": 0.0, "messages": [{"content": "Hi", "role": "user"}]}
    timed = httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream?timeout=30s", json=reordered, timeout=10
    )
    assert timed.headers["x-cache"] == "hit"
    other = stream(svc, inference_id, {**CHAT, "temperature": 0.5})
    assert other.headers["x-cache"] == "miss" and _texts(other.text) == ["b"]
    assert len(upstream.requests) == 2


def test_cache_control_no_cache_and_no_store(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("one"), good_stream("two"), good_stream("three"), good_stream("four"))
    no_store = stream(svc, inference_id, **{"Cache-Control": "no-store"})
    assert no_store.headers["x-cache"] == "miss"
    assert stream(svc, inference_id).headers["x-cache"] == "miss"  # nothing was stored: "two" is
    refreshed = stream(svc, inference_id, **{"Cache-Control": "no-cache"})
    assert refreshed.headers["x-cache"] == "miss" and _texts(refreshed.text) == ["three"]
    hit = stream(svc, inference_id)
    assert hit.headers["x-cache"] == "hit" and _texts(hit.text) == ["three"]  # no-cache stored anew
    assert stream(svc, inference_id, **{"Cache-Control": "max-age=0"}).headers["x-cache"] == "miss"
    assert len(upstream.requests) == 4


def test_entries_expire_after_the_ttl(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = put(svc, upstream, cache={"ttl": "1s"})
    upstream.enqueue(good_stream("old"), good_stream("new"))
    assert stream(svc, inference_id).headers["x-cache"] == "miss"
    assert stream(svc, inference_id).headers["x-cache"] == "hit"
    time.sleep(1.3)
    expired = stream(svc, inference_id)
    assert expired.headers["x-cache"] == "miss" and _texts(expired.text) == ["new"]


def test_an_update_invalidates_and_cache_null_turns_it_off(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("v1"), good_stream("v2"), good_stream("v3"))
    assert stream(svc, inference_id).headers["x-cache"] == "miss"
    update = httpx.put(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_update", json={"cache": {"ttl": "1h"}}
    )
    assert update.status_code == 200 and update.json()["cache"] == {"ttl": "1h"}
    after = stream(svc, inference_id)
    assert after.headers["x-cache"] == "miss" and _texts(after.text) == ["v2"]
    off = httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}/_update", json={"cache": None})
    assert off.status_code == 200 and "cache" not in off.json()
    plain = stream(svc, inference_id)
    assert "x-cache" not in plain.headers and _texts(plain.text) == ["v3"]


def test_an_endpoint_recreated_with_other_settings_never_serves_the_old_answer(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("before"), good_stream("after"))
    assert stream(svc, inference_id).status_code == 200
    assert httpx.delete(f"{svc.url}/_inference/{inference_id}").status_code == 200
    body: dict[str, Any] = {"service": "openai", "cache": {"ttl": "10m"}}
    body["service_settings"] = {
        "api_key": "sk-test",
        "model_id": "gpt-4o",
        "url": upstream.url + "/v1/chat/completions",
    }
    assert httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}", json=body).status_code == 200
    again = stream(svc, inference_id)
    assert again.headers["x-cache"] == "miss" and _texts(again.text) == ["after"]


def test_errors_are_never_cached(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = put(svc, upstream)
    failure = Reply.json(500, fake_openai.error_body("boom", "server_error"))
    broken = fake_openai.stream_reply(["partial"], error={"message": "overloaded", "type": "server_error"})
    upstream.enqueue(failure, broken, good_stream("fine"))
    assert stream(svc, inference_id).status_code == 502
    cut = stream(svc, inference_id)
    assert cut.status_code == 200 and "event: error" in cut.text
    healed = stream(svc, inference_id)
    assert healed.headers["x-cache"] == "miss" and _texts(healed.text) == ["fine"]
    assert stream(svc, inference_id).headers["x-cache"] == "hit"
    assert len(upstream.requests) == 3


def test_an_endpoint_without_a_cache_sends_no_cache_header(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream, cache=None)
    upstream.enqueue(good_stream("x"), good_stream("y"))
    assert "x-cache" not in stream(svc, inference_id).headers
    assert _texts(stream(svc, inference_id).text) == ["y"]


def test_the_openai_face_replays_streams_and_answers_with_their_original_created(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put(svc, upstream)
    upstream.enqueue(good_stream("Hi", "!"))
    client = openai.OpenAI(base_url=f"{svc.url}/v1", api_key="unused", max_retries=0)
    messages: Any = [{"role": "user", "content": "Hi"}]
    with client.chat.completions.with_streaming_response.create(
        model=inference_id, messages=messages, temperature=0.0, stream=True
    ) as first_raw:
        first = first_raw.http_response.read()
        assert first_raw.headers["x-cache"] == "miss"
    time.sleep(1.1)  # a replay made later still says when the answer was made
    raw = httpx.post(
        f"{svc.url}/v1/chat/completions",
        json={"model": inference_id, "messages": messages, "temperature": 0.0, "stream": True},
    )
    assert raw.headers["x-cache"] == "hit" and raw.content == first
    answer = client.chat.completions.with_raw_response.create(
        model=inference_id, messages=messages, temperature=0.0
    )
    assert answer.headers["x-cache"] == "hit"
    completion = answer.parse()
    assert completion.choices[0].message.content == "Hi!"
    created = json.loads(first.split(b"\n\n")[0].removeprefix(b"data: "))["created"]
    assert completion.created == created
    assert len(upstream.requests) == 1


def test_embeddings_and_rerank_are_cached(svc: RunningService, upstream: FakeProvider) -> None:
    embed_id = put(svc, upstream, "text_embedding")
    upstream.enqueue(fake_embeddings.reply([[0.5, -0.25], [0.125, 1.0]]))
    es = Elasticsearch(svc.url)
    body = {"input": ["a", "b"]}
    first = es.inference.inference(inference_id=embed_id, task_type="text_embedding", body=body)
    second = es.inference.inference(inference_id=embed_id, task_type="text_embedding", body=body)
    assert second.meta.headers["x-cache"] == "hit" and first.body == second.body
    assert first.body["text_embedding"][0]["embedding"] == [0.5, -0.25]
    vectors = openai.OpenAI(base_url=f"{svc.url}/v1", api_key="unused").embeddings.create(
        model=embed_id, input=["a", "b"]
    )
    assert [d.embedding for d in vectors.data] == [[0.5, -0.25], [0.125, 1.0]]
    rerank_id = put(svc, upstream, "rerank")
    upstream.enqueue(cohere.rerank_reply([(1, 0.9), (0, 0.1)]))
    query = {"query": "bread", "input": ["stone", "loaf"], "return_documents": True}
    ranked = [
        es.inference.inference(inference_id=rerank_id, task_type="rerank", body=query) for _ in range(2)
    ]
    assert ranked[1].meta.headers["x-cache"] == "hit" and ranked[0].body == ranked[1].body
    assert ranked[1].body["rerank"][0] == {"index": 1, "relevance_score": 0.9, "text": "loaf"}
    assert len(upstream.requests) == 2


@pytest.mark.parametrize(
    ("cache", "message"),
    [
        ("10m", "[cache] must be an object"),
        ({}, "[cache] does not contain the required setting [ttl]"),
        ({"ttl": 600}, "[cache] [ttl] must be a time value"),
        ({"ttl": "ten"}, "failed to parse setting [cache.ttl] with value [ten]"),
        ({"ttl": "0"}, "[cache] [ttl] must be positive"),
        ({"ttl": "1m", "size": 5}, "[cache] unknown setting [size]"),
    ],
)
def test_a_bad_cache_object_is_a_400(
    svc: RunningService, upstream: FakeProvider, cache: Any, message: str
) -> None:
    body = {
        "service": "openai",
        "service_settings": {"api_key": "k", "model_id": "m", "url": upstream.url + "/v1/chat/completions"},
        "cache": cache,
    }
    response = httpx.put(f"{svc.url}/_inference/chat_completion/bad-cache-{next(_ids)}", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["reason"]


def test_get_returns_the_cache_object(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = put(svc, upstream, cache={"ttl": "90s"})
    shown = httpx.get(f"{svc.url}/_inference/{inference_id}").json()["endpoints"][0]
    assert shown["cache"] == {"ttl": "90s"}


def test_redis_shares_the_cache_between_services(tmp_path: Path, upstream: FakeProvider) -> None:
    prefix = f"inference-service-test-{uuid.uuid4().hex}:"
    with migrated_service(tmp_path, redis_url="redis://127.0.0.1:6379/0", redis_key_prefix=prefix) as first:
        second_settings = make_settings(
            tmp_path, redis_url="redis://127.0.0.1:6379/0", redis_key_prefix=prefix
        )
        with run_service(second_settings) as second:
            inference_id = put(first, upstream)
            upstream.enqueue(good_stream("shared"))
            made = stream(first, inference_id)
            assert made.headers["x-cache"] == "miss"
            deadline = time.monotonic() + 5
            while httpx.get(f"{second.url}/_inference/{inference_id}").status_code != 200:
                assert time.monotonic() < deadline, "the second service never learnt of the endpoint"
                time.sleep(0.05)
            time.sleep(0.2)  # the first service writes to Redis in the background, after the last byte
            replayed = stream(second, inference_id)
            assert replayed.headers.get("x-cache") == "hit", replayed.text
            assert replayed.content == made.content
            assert len(upstream.requests) == 1


def _texts(raw: str) -> list[str]:
    out: list[str] = []
    for block in raw.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        data = lines.get("data")
        if lines.get("event") == "message" and data and data != "[DONE]":
            out.extend(
                c["delta"].get("content") or ""
                for c in json.loads(data)["choices"]
                if c["delta"].get("content")
            )
    return ["".join(out)] if out else []
