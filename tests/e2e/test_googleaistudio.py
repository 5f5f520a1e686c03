"""googleaistudio text_embedding end to end: the service under hypercorn, a fake Gemini API
with Google's wire format, raw HTTP and the official client. The API key travels in the
``?key=`` query and never shows up in an answer, an error or a log line."""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from tests.fakes import googleaistudio as google
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.vectors import vector_of, vectors_for
from tests.support.service import RunningService, migrated_service

_ids = itertools.count()
KEY = "AIzaSyD-secret-key-0123456789"
MODEL = "text-embedding-004"
PATH = f"/v1/models/{MODEL}:batchEmbedContents"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    # one batch at a time, so the fake's queued answers meet the batches in input order
    with migrated_service(tmp_path_factory.mktemp("google"), embedding_batch_concurrency=1) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line of the service and of aiohttp, at DEBUG, while the test runs."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("inference_service", "aiohttp", "hypercorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler.lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def put(svc: RunningService, url: str, *, validate: bool = False, **settings: Any) -> httpx.Response:
    body = {
        "service": "googleaistudio",
        "service_settings": {"api_key": KEY, "model_id": MODEL, "url": url, **settings},
    }
    flag = "true" if validate else "false"
    return httpx.put(f"{svc.url}/_inference/text_embedding/google-{next(_ids)}?validate={flag}", json=body)


def endpoint(svc: RunningService, upstream: FakeProvider, **settings: Any) -> str:
    created = put(svc, upstream.url, **settings)
    assert created.status_code == 200, created.text
    assert KEY not in created.text
    return str(created.json()["inference_id"])


def embed(svc: RunningService, inference_id: str, body: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/text_embedding/{inference_id}", json=body, timeout=30)


def sent(text: str, task_type: str | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"model": f"models/{MODEL}", "content": {"parts": [{"text": text}]}, **extra}
    if task_type is not None:
        entry["taskType"] = task_type
    return entry


def test_put_validation_call(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(google.reply([[0.5, 0.25, 0.125]]))
    created = put(svc, upstream.url, validate=True)
    assert created.status_code == 200, created.text
    assert created.json()["service_settings"] == {
        "model_id": MODEL,
        "url": upstream.url,
        "dimensions": 3,
        "similarity": "dot_product",
        "rate_limit": {"requests_per_minute": 360},
    }
    probe = upstream.last_request
    assert (probe.method, probe.path, probe.query) == ("POST", PATH, f"key={KEY}")
    assert "authorization" not in probe.headers and probe.headers["content-type"] == "application/json"
    assert probe.json == {"requests": [sent("how big", "RETRIEVAL_DOCUMENT")]}


def test_vectors_in_input_order_and_task_types(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = ["first", "second", "third"]
    vectors = vectors_for(inputs)
    upstream.enqueue(google.reply(vectors), google.reply(vectors), google.reply(vectors))
    plain = embed(svc, inference_id, {"input": inputs})
    assert plain.status_code == 200, plain.text
    assert plain.json() == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert upstream.requests[0].json == {"requests": [sent(t) for t in inputs]}
    assert embed(svc, inference_id, {"input": inputs, "input_type": "search"}).status_code == 200
    assert upstream.requests[1].json["requests"][2] == sent("third", "RETRIEVAL_QUERY")
    assert embed(svc, inference_id, {"input": inputs, "input_type": " Clustering "}).status_code == 200
    assert upstream.requests[2].json["requests"][0] == sent("first", "CLUSTERING")


def test_batches_of_one_hundred(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    inputs = [f"t{i}" for i in range(201)]
    vectors = vectors_for(inputs, dims=2)
    upstream.respond_by(
        lambda body: google.reply(
            [vector_of(r["content"]["parts"][0]["text"], dims=2) for r in body["requests"]]
        )
    )
    response = embed(svc, inference_id, {"input": inputs})
    assert response.status_code == 200, response.text
    assert [e["embedding"] for e in response.json()["text_embedding"]] == vectors
    assert sorted(len(r.json["requests"]) for r in upstream.requests) == [1, 100, 100]
    assert all(r.query == f"key={KEY}" for r in upstream.requests)


def test_dimensions_the_user_chose_are_sent(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(google.reply([[0.5, 0.25]]))
    created = put(svc, upstream.url, validate=True, dimensions=2, similarity="cosine")
    assert created.status_code == 200, created.text
    assert created.json()["service_settings"]["similarity"] == "cosine"
    assert upstream.last_request.json == {
        "requests": [sent("how big", outputDimensionality=2, taskType="RETRIEVAL_DOCUMENT")]
    }
    upstream.enqueue(google.reply([[0.5, 0.25, 0.1]]))
    refused = put(svc, upstream.url, validate=True, dimensions=2)
    assert refused.status_code == 400
    assert "The retrieved embeddings size [3] does not match the size specified in the settings [2]" in (
        refused.text
    )


@pytest.mark.parametrize(
    ("reply", "status", "es_type", "reason"),
    [
        (
            google.invalid_api_key(),
            400,
            "INVALID_ARGUMENT",
            "Received a bad request status code for request from inference entity id [{id}] status [400]. "
            "Error message: [API key not valid. Please pass a valid API key.]",
        ),
        (
            google.model_not_found(MODEL),
            404,
            "NOT_FOUND",
            "Resource not found at [{url}"
            + PATH
            + "] for request from inference entity id [{id}] status [404].",
        ),
        (google.error_reply(429, "Resource has been exhausted"), 429, "RESOURCE_EXHAUSTED", "exhausted"),
        (google.error_reply(503, "The model is overloaded."), 502, "UNAVAILABLE", "overloaded"),
        (
            google.error_reply(400, f"Invalid request to {PATH}?key={KEY}"),
            400,
            "INVALID_ARGUMENT",
            f"Invalid request to {PATH}?key=<redacted>",
        ),
    ],
)
def test_upstream_errors_never_show_the_key(
    svc: RunningService,
    upstream: FakeProvider,
    log_lines: list[str],
    reply: Reply,
    status: int,
    es_type: str,
    reason: str,
) -> None:
    inference_id = endpoint(svc, upstream, upstream_max_retries=0)  # the mapping, not the retries
    upstream.enqueue(reply)
    response = embed(svc, inference_id, {"input": ["a"]})
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == es_type
    assert reason.format(id=inference_id, url=upstream.url) in response.json()["error"]["reason"]
    assert KEY not in response.text
    assert upstream.last_request.query == f"key={KEY}"
    assert not [line for line in log_lines if KEY in line]


def test_a_failing_validation_call_does_not_show_the_key(svc: RunningService, upstream: FakeProvider) -> None:
    upstream.enqueue(google.model_not_found(MODEL))
    refused = put(svc, upstream.url, validate=True)
    assert refused.status_code == 400
    assert refused.json()["error"]["caused_by"]["reason"].startswith(
        f"Resource not found at [{upstream.url}{PATH}]"
    )
    assert KEY not in refused.text


def test_unreachable_provider(svc: RunningService, log_lines: list[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    created = put(svc, f"http://127.0.0.1:{port}")
    assert created.status_code == 200
    response = embed(svc, created.json()["inference_id"], {"input": ["a"]})
    assert response.status_code == 502
    assert f"Could not connect to the provider at [http://127.0.0.1:{port}{PATH}]" in response.text
    assert KEY not in response.text
    assert not [line for line in log_lines if KEY in line]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"input": ["a"], "task_settings": {"taskType": "CLUSTERING"}},
            "unknown to the [googleaistudio] service",
        ),
        ({"input": ["a"], "input_type": "internal_search"}, "Unrecognized input_type [internal_search]"),
    ],
)
def test_bad_requests_never_reach_the_provider(
    svc: RunningService, upstream: FakeProvider, body: dict[str, Any], reason: str
) -> None:
    inference_id = endpoint(svc, upstream)
    response = embed(svc, inference_id, body)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]["reason"]
    assert upstream.requests == []


def test_settings_are_validated(svc: RunningService, upstream: FakeProvider) -> None:
    body = {"service": "googleaistudio", "service_settings": {"api_key": KEY}}
    missing = httpx.put(f"{svc.url}/_inference/text_embedding/google-bad", json=body)
    assert missing.status_code == 400
    assert "[service_settings] does not contain the required setting [model_id]" in missing.text
    chat = httpx.put(
        f"{svc.url}/_inference/chat_completion/google-chat",
        json={"service": "googleaistudio", "service_settings": {"api_key": KEY, "model_id": MODEL}},
    )
    assert chat.status_code == 400
    assert "The [googleaistudio] service does not support task type [chat_completion]" in chat.text
    assert KEY not in missing.text + chat.text


def test_the_official_client(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = endpoint(svc, upstream)
    client = Elasticsearch(svc.url, request_timeout=30)
    vectors = vectors_for(["a", "b"])
    upstream.enqueue(google.reply(vectors))
    result = client.inference.text_embedding(inference_id=inference_id, input=["a", "b"], input_type="ingest")
    assert result.body == {"text_embedding": [{"embedding": v} for v in vectors]}
    assert upstream.last_request.json["requests"][1] == sent("b", "RETRIEVAL_DOCUMENT")
    client.close()
