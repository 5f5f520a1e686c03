"""Idempotency keys end to end: the service under hypercorn on SQLite and PostgreSQL,
wire-faithful fakes, the official ``elasticsearch`` client, the ``openai`` SDK and httpx.

Every test uses keys of its own (``key()``), so they share one service per backend.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import cohere
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService

_ids = itertools.count()
CHAT = {"messages": [{"role": "user", "content": "hi"}]}
REPLAYED = "idempotent-replayed"


def key() -> str:
    return f"idem-{uuid.uuid4()}"


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def http(service: RunningService) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client


def openai_endpoint(
    http: httpx.Client, upstream: FakeProvider, task_type: str = "chat_completion", **extra: Any
) -> str:
    inference_id = f"idem-{task_type.replace('_', '-')}-{next(_ids)}"
    embeddings = task_type == "text_embedding"
    settings = {
        "api_key": "sk-idem",
        "model_id": fake_embeddings.MODEL if embeddings else fake_openai.MODEL,
        "url": upstream.url + ("/v1/embeddings" if embeddings else "/v1/chat/completions"),
        "upstream_max_retries": 0,
        **extra,
    }
    created = http.put(
        f"/_inference/{task_type}/{inference_id}", json={"service": "openai", "service_settings": settings}
    )
    assert created.status_code == 200, created.text
    return inference_id


def rerank_endpoint(http: httpx.Client, upstream: FakeProvider) -> str:
    inference_id = f"idem-rerank-{next(_ids)}"
    settings = {"api_key": "key-1", "model_id": cohere.RERANK_MODEL, "url": upstream.url + "/v2/rerank"}
    created = http.put(
        f"/_inference/rerank/{inference_id}", json={"service": "cohere", "service_settings": settings}
    )
    assert created.status_code == 200, created.text
    return inference_id


def post(http: httpx.Client, path: str, body: Any, idem: str, **headers: str) -> httpx.Response:
    return http.post(path, json=body, headers={"idempotency-key": idem, **headers})


PER_REQUEST = ("date", "server", "x-request-id")
"""Headers every response has of its own: a replay is a new request with its own id."""


def assert_replay(first: httpx.Response, again: httpx.Response) -> None:
    """Same status, same headers plus ``Idempotent-Replayed``, same bytes; a request id of its own."""
    assert again.status_code == first.status_code
    assert again.headers.get(REPLAYED) == "true" and REPLAYED not in first.headers
    ours = [(k, v) for k, v in again.headers.multi_items() if k not in (REPLAYED, *PER_REQUEST)]
    theirs = [(k, v) for k, v in first.headers.multi_items() if k not in PER_REQUEST]
    assert ours == theirs
    assert again.headers.multi_items().count(("x-request-id", again.headers["x-request-id"])) == 1
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert again.content == first.content


# -- replay on both faces ------------------------------------------------------------------


def test_es_chat_is_replayed_without_calling_the_provider(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream)
    upstream.enqueue(fake_openai.stream_reply(["once"]))
    idem = key()
    first = post(http, f"/_inference/chat_completion/{inference_id}", CHAT, idem)
    assert first.status_code == 200, first.text
    again = post(http, f"/_inference/chat_completion/{inference_id}", CHAT, idem)
    assert_replay(first, again)
    assert len(upstream.requests) == 1


def test_es_stream_is_replayed_byte_for_byte(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream)
    upstream.enqueue(fake_openai.stream_reply(["Hel", "lo", " there"]))
    idem = key()
    path = f"/_inference/chat_completion/{inference_id}/_stream"
    first = post(http, path, CHAT, idem)
    assert first.status_code == 200 and first.text.rstrip().endswith("[DONE]")
    again = post(http, path, CHAT, idem)
    assert_replay(first, again)
    assert again.headers["content-type"].startswith("text/event-stream")
    assert len(upstream.requests) == 1


def test_the_official_es_client_embeds_and_reranks_once(service: RunningService, http: httpx.Client) -> None:
    with FakeProvider() as embeddings, FakeProvider() as ranker:
        embedding_id = openai_endpoint(http, embeddings, "text_embedding")
        rerank_id = rerank_endpoint(http, ranker)
        embeddings.enqueue(fake_embeddings.reply([[0.5, 0.25]]))
        ranker.enqueue(cohere.rerank_reply([(0, 0.75)]))
        es = Elasticsearch(service.url, request_timeout=30)
        for _ in range(2):
            same = es.options(headers={"Idempotency-Key": "es-embed-" + embedding_id})
            vectors = same.inference.inference(inference_id=embedding_id, input=["a"])
            assert vectors["text_embedding"][0]["embedding"] == [0.5, 0.25]
            same = es.options(headers={"Idempotency-Key": "es-rerank-" + rerank_id})
            ranked = same.inference.inference(inference_id=rerank_id, query="q", input=["d"])
            assert ranked["rerank"][0]["relevance_score"] == 0.75
        es.close()
        assert len(embeddings.requests) == 1 and len(ranker.requests) == 1


def test_openai_sdk_chat_stream_embeddings_and_rerank(
    service: RunningService, http: httpx.Client, upstream: FakeProvider
) -> None:
    chat_id = openai_endpoint(http, upstream)
    embedding_id = openai_endpoint(http, upstream, "text_embedding")
    upstream.enqueue(
        fake_openai.stream_reply(["sdk answer"]),
        fake_openai.stream_reply(["str", "eam"]),
        fake_embeddings.reply([[0.125, 0.5]]),
    )
    with openai.OpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk:
        chat_key, stream_key, embed_key = key(), key(), key()
        answers = []
        for _ in range(2):
            raw = sdk.chat.completions.with_raw_response.create(
                model=chat_id,
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"Idempotency-Key": chat_key},
            )
            answers.append((raw.headers.get(REPLAYED), raw.parse().choices[0].message.content))
        assert answers == [(None, "sdk answer"), ("true", "sdk answer")]
        texts = []
        for _ in range(2):
            chunks = sdk.chat.completions.create(
                model=chat_id,
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                extra_headers={"Idempotency-Key": stream_key},
            )
            texts.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
        assert texts == ["stream", "stream"]
        vectors = [
            sdk.embeddings.create(
                model=embedding_id,
                input="x",
                encoding_format="float",
                extra_headers={"Idempotency-Key": embed_key},
            )
            .data[0]
            .embedding
            for _ in range(2)
        ]
        assert vectors == [[0.125, 0.5]] * 2
    assert len(upstream.requests) == 3


def test_openai_face_rerank_is_replayed(http: httpx.Client, upstream: FakeProvider) -> None:
    rerank_id = rerank_endpoint(http, upstream)
    upstream.enqueue(cohere.rerank_reply([(0, 0.5)]))
    body = {"model": rerank_id, "query": "q", "documents": ["d"]}
    idem = key()
    first = post(http, "/v1/rerank", body, idem)
    assert first.status_code == 200, first.text
    assert_replay(first, post(http, "/v1/rerank", body, idem))
    assert len(upstream.requests) == 1


# -- conflicts, concurrency, what is stored -------------------------------------------------


def test_same_key_with_another_body_is_a_422_on_both_faces(
    http: httpx.Client, upstream: FakeProvider
) -> None:
    inference_id = openai_endpoint(http, upstream)
    upstream.enqueue(fake_openai.stream_reply(["a"]), fake_openai.stream_reply(["b"]))
    idem = key()
    assert post(http, f"/_inference/chat_completion/{inference_id}", CHAT, idem).status_code == 200
    other = {"messages": [{"role": "user", "content": "something else"}]}
    es = post(http, f"/_inference/chat_completion/{inference_id}", other, idem)
    assert es.status_code == 422
    assert (
        es.json()["error"]["type"] == "status_exception" and "Idempotency-Key" in es.json()["error"]["reason"]
    )
    idem = key()
    body = {"model": inference_id, "messages": CHAT["messages"]}
    assert post(http, "/v1/chat/completions", body, idem).status_code == 200
    reused = post(http, "/v1/chat/completions", {**body, "temperature": 0.5}, idem)
    assert reused.status_code == 422
    error = reused.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "idempotency_key_reused"
    assert len(upstream.requests) == 2


def test_in_flight_is_a_409_with_retry_after_then_the_replay(
    service: RunningService, upstream: FakeProvider
) -> None:
    with service.client() as first_client, service.client() as second_client:
        inference_id = openai_endpoint(first_client, upstream)
        upstream.enqueue(
            fake_openai.stream_reply(["slow"]).replace(headers_delay=1.0), fake_openai.stream_reply(["b"])
        )
        idem = key()
        path = f"/_inference/chat_completion/{inference_id}"
        results: list[httpx.Response] = []
        running = threading.Thread(target=lambda: results.append(post(first_client, path, CHAT, idem)))
        running.start()
        upstream.wait_for_requests(1)
        busy = post(second_client, path, CHAT, idem)
        assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
        assert busy.json()["error"]["type"] == "status_exception"
        v1 = post(second_client, "/v1/chat/completions", {"model": inference_id, **CHAT}, key())
        assert v1.status_code == 200  # another key is not held up
        running.join()
        assert results[0].status_code == 200
        assert_replay(results[0], post(second_client, path, CHAT, idem))


def test_ten_concurrent_requests_call_the_provider_once(
    service: RunningService, upstream: FakeProvider
) -> None:
    with service.client() as setup:
        inference_id = openai_endpoint(setup, upstream)
    upstream.enqueue(fake_openai.stream_reply(["only once"]).replace(headers_delay=0.5))
    idem = key()

    def call(_: int) -> httpx.Response:
        with service.client() as client:
            return post(client, f"/_inference/chat_completion/{inference_id}", CHAT, idem)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(call, range(10)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}, statuses
    assert sum(1 for a in answers if a.status_code == 200 and REPLAYED not in a.headers) == 1
    assert len(upstream.requests) == 1


def test_a_5xx_is_not_stored_and_the_retry_runs_anew(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream)
    upstream.enqueue(fake_openai.server_error(), fake_openai.stream_reply(["second try"]))
    idem = key()
    path = f"/_inference/chat_completion/{inference_id}"
    assert post(http, path, CHAT, idem).status_code >= 500
    again = post(http, path, CHAT, idem)
    assert again.status_code == 200 and REPLAYED not in again.headers
    assert len(upstream.requests) == 2


def test_a_stream_that_fails_after_its_200_is_not_stored(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream)
    upstream.enqueue(
        fake_openai.stream_reply(["part"], done=False, end="reset"), fake_openai.stream_reply(["whole"])
    )
    idem = key()
    path = f"/_inference/chat_completion/{inference_id}/_stream"
    failed = post(http, path, CHAT, idem)
    assert failed.status_code == 200 and "event: error" in failed.text
    again = post(http, path, CHAT, idem)
    assert "whole" in again.text and REPLAYED not in again.headers
    assert len(upstream.requests) == 2


def test_a_4xx_after_the_claim_is_stored(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream)
    idem = key()
    path = f"/_inference/chat_completion/{inference_id}"
    bad = post(http, path, {"messages": "not a list"}, idem)
    assert bad.status_code == 400
    assert_replay(bad, post(http, path, {"messages": "not a list"}, idem))
    missing = post(http, "/_inference/chat_completion/no-such-endpoint", CHAT, idem2 := key())
    assert missing.status_code == 404
    assert_replay(missing, post(http, "/_inference/chat_completion/no-such-endpoint", CHAT, idem2))
    assert not upstream.requests


# -- the header itself ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "x" * 256, "caf\u00e9"], ids=["empty", "too-long", "non-ascii"])
def test_an_invalid_key_is_a_400_naming_the_header(http: httpx.Client, value: str) -> None:
    raw = value.encode("utf-8")
    answer = http.post(
        "/v1/embeddings", json={"model": "m", "input": "x"}, headers=[(b"idempotency-key", raw)]
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "Idempotency-Key" in error["message"] and error["code"] == "invalid_idempotency_key"


def test_a_255_character_key_is_accepted(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream, "text_embedding")
    upstream.enqueue(fake_embeddings.reply([[1.0]]))
    body = {"model": inference_id, "input": "x", "encoding_format": "float"}
    long_key = "k" * 255
    assert post(http, "/v1/embeddings", body, long_key).status_code == 200
    assert post(http, "/v1/embeddings", body, long_key).headers[REPLAYED] == "true"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/_inference"), ("GET", "/v1/models"), ("PUT", "/_inference/completion/x")]
)
def test_the_header_on_a_non_inference_route_is_a_400(http: httpx.Client, method: str, path: str) -> None:
    answer = http.request(
        method, path, json={} if method == "PUT" else None, headers={"idempotency-key": key()}
    )
    assert answer.status_code == 400
    assert "honoured only on inference requests" in answer.text


def test_requests_without_the_header_are_untouched(http: httpx.Client, upstream: FakeProvider) -> None:
    inference_id = openai_endpoint(http, upstream)
    upstream.enqueue(fake_openai.stream_reply(["a"]), fake_openai.stream_reply(["b"]))
    for _ in range(2):
        answer = http.post(f"/_inference/chat_completion/{inference_id}", json=CHAT)
        assert answer.status_code == 200 and REPLAYED not in answer.headers
    assert len(upstream.requests) == 2


def test_a_stream_the_client_left_is_released(service: RunningService, upstream: FakeProvider) -> None:
    with service.client() as http:
        inference_id = openai_endpoint(http, upstream)
        upstream.enqueue(
            fake_openai.stream_reply(["a", "b", "c"], gap=1.0), fake_openai.stream_reply(["anew"])
        )
        idem = key()
        path = f"/_inference/chat_completion/{inference_id}/_stream"
        with http.stream("POST", path, json=CHAT, headers={"idempotency-key": idem}) as left:
            assert left.status_code == 200
            next(left.iter_raw())  # the first frame, then the client goes away
        deadline = time.monotonic() + 5
        while (again := post(http, path, CHAT, idem)).status_code == 409 and time.monotonic() < deadline:
            time.sleep(0.05)  # the release follows the disconnect
        assert again.status_code == 200 and "anew" in again.text and REPLAYED not in again.headers
        assert len(upstream.requests) == 2
