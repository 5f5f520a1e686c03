"""The SDK's transport against a scripted fake *service* (tests/fakes/server.py on 127.0.0.1):
retries and their limits, the idempotency key, statuses the real service cannot be made to
answer here (401, 403, 409), streams cut short or framed the Elasticsearch way, timeouts."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any, assert_type

import pytest

from inference_service.client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncInferenceClient,
    AsyncStream,
    AuthenticationError,
    BadRequestError,
    ChatCompletion,
    Completion,
    ConflictError,
    InferenceClient,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    Stream,
)
from tests.fakes.server import FakeProvider, Reply

JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}
BOM = b"\xef\xbb\xbf"
MESSAGES = [{"role": "user", "content": "Hi"}]
ANSWER = Reply.json(200, {"completion": [{"result": "fine"}]}, JSON)
CHUNK = {
    "id": "c1",
    "choices": [{"delta": {"content": "Hi", "role": "assistant"}, "index": 0}],
    "model": "m",
    "object": "chat.completion.chunk",
}


def es_error(status: int, type_: str, reason: str) -> dict[str, Any]:
    return {
        "error": {"root_cause": [{"type": type_, "reason": reason}], "type": type_, "reason": reason},
        "status": status,
    }


def failing(status: int, retry_after: str | None = None) -> Reply:
    headers = {**JSON, **({"retry-after": retry_after} if retry_after is not None else {})}
    return Reply.json(status, es_error(status, "status_exception", f"failed with {status}"), headers)


def frame(data: Any, event: str = "message", *, bom: bool = False) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (BOM if bom else b"") + f"event: {event}\ndata: {text}\n\n".encode()


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def client(fake: FakeProvider, **kwargs: Any) -> InferenceClient:
    kwargs.setdefault("timeout", 10)
    return InferenceClient(fake.url, **kwargs)


# --- retries -------------------------------------------------------------------------------


def test_retries_a_503_with_the_same_idempotency_key(fake: FakeProvider) -> None:
    fake.enqueue(failing(503, retry_after="0"), ANSWER, ANSWER)
    with client(fake) as sdk:
        assert sdk.completion(model="w", prompt="p").content == "fine"
        first, retry = fake.requests
        assert first.headers["idempotency-key"] == retry.headers["idempotency-key"] != ""
        assert first.json == retry.json == {"input": "p"}
        assert first.target == retry.target  # the same query too: the service compares it
        sdk.completion(model="w", prompt="p")
        assert fake.last_request.headers["idempotency-key"] != first.headers["idempotency-key"]


def test_retries_a_connection_dropped_before_any_answer(fake: FakeProvider) -> None:
    fake.enqueue(Reply.drop("reset"), Reply.drop("eof"), ANSWER)
    started = time.monotonic()
    with client(fake) as sdk:
        assert sdk.completion(model="w", prompt="p").content == "fine"
    assert len(fake.requests) == 3
    assert len({r.headers["idempotency-key"] for r in fake.requests}) == 1
    assert time.monotonic() - started >= 0.3 + 0.75  # two exponential backoffs, minus their jitter


def test_a_put_or_delete_that_may_have_landed_is_not_sent_again(fake: FakeProvider) -> None:
    """No idempotency key on the management calls: sent twice, a create would answer "already
    exists" for the endpoint it made. Reads are retried; so is a call that never connected."""
    endpoint = {"inference_id": "e", "task_type": "completion", "service": "openai", "service_settings": {}}
    fake.default = Reply.json(200, endpoint, JSON)
    with client(fake) as sdk:
        for how in ("reset", "eof"):
            fake.enqueue(Reply.drop(how))
            with pytest.raises(APIConnectionError):
                sdk.endpoints.create("e", task_type="completion", service="openai", service_settings={})
        fake.enqueue(Reply.drop("reset"))
        with pytest.raises(APIConnectionError):
            sdk.endpoints.delete("e")
        assert [r.method for r in fake.requests] == ["PUT", "PUT", "DELETE"]
        fake.enqueue(Reply.drop("reset"), Reply.json(200, {"endpoints": [endpoint]}, JSON))
        assert sdk.endpoints.get("e").inference_id == "e"
        assert [r.method for r in fake.requests[3:]] == ["GET", "GET"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: refused, so never sent
        with InferenceClient(f"http://127.0.0.1:{sock.getsockname()[1]}", max_retries=1) as refused:
            started = time.monotonic()
            with pytest.raises(APIConnectionError, match="could not reach"):
                refused.endpoints.delete("e")
            assert time.monotonic() - started >= 0.375  # one backoff: the refused call was retried


def test_honours_retry_after(fake: FakeProvider) -> None:
    fake.enqueue(failing(429, retry_after="0.3"), ANSWER)
    started = time.monotonic()
    with client(fake) as sdk:
        assert sdk.completion(model="w", prompt="p").content == "fine"
    assert fake.requests[1].received_at - fake.requests[0].received_at >= 0.3
    assert time.monotonic() - started < 3


def test_a_key_in_flight_is_waited_for(fake: FakeProvider) -> None:
    """The service's 409 with Retry-After: the call's first attempt still holds its key (its
    connection broke, the service still runs it); the retry, with the same key, gets its answer."""
    in_flight = Reply.json(
        409,
        es_error(409, "status_exception", "A request with this Idempotency-Key is still in flight"),
        {**JSON, "retry-after": "0.3"},
    )
    fake.enqueue(Reply.drop("reset"), in_flight, ANSWER)
    with client(fake) as sdk:
        assert sdk.completion(model="w", prompt="p").content == "fine"
    first, busy, replayed = fake.requests
    assert first.headers["idempotency-key"] == busy.headers["idempotency-key"]
    assert busy.headers["idempotency-key"] == replayed.headers["idempotency-key"]
    assert replayed.received_at - busy.received_at >= 0.3


def test_a_wait_beyond_the_timeout_is_not_made(fake: FakeProvider) -> None:
    fake.enqueue(failing(429, retry_after="30"))
    started = time.monotonic()
    with client(fake, timeout=5) as sdk, pytest.raises(RateLimitError) as limited:
        sdk.completion(model="w", prompt="p")
    assert limited.value.retry_after == 30 and len(fake.requests) == 1
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (2, 3)])
def test_gives_up_after_max_retries(fake: FakeProvider, max_retries: int, attempts: int) -> None:
    fake.default = failing(502, retry_after="0")
    with client(fake, max_retries=max_retries) as sdk, pytest.raises(InternalServerError) as failed:
        sdk.completion(model="w", prompt="p")
    assert failed.value.status == 502 and len(fake.requests) == attempts


@pytest.mark.parametrize(
    ("status", "cls", "type_"),
    [
        (400, BadRequestError, "illegal_argument_exception"),
        (401, AuthenticationError, "security_exception"),
        (403, PermissionDeniedError, "security_exception"),
        (404, NotFoundError, "resource_not_found_exception"),
        (408, RequestTimeoutError, "status_exception"),
        (409, ConflictError, "version_conflict_engine_exception"),
        (500, InternalServerError, "status_exception"),
        (418, APIStatusError, "status_exception"),
    ],
)
def test_statuses_map_to_classes_and_are_not_retried(
    fake: FakeProvider, status: int, cls: type[APIStatusError], type_: str
) -> None:
    body = es_error(status, type_, "no")
    # even with Retry-After; a conflict sends none (with one it is a key in flight: retried)
    advice = {} if status == 409 else {"retry-after": "0"}
    fake.enqueue(Reply.json(status, body, {**JSON, **advice}))
    with client(fake) as sdk, pytest.raises(APIStatusError) as failed:
        sdk.endpoints.get("e")
    assert type(failed.value) is cls
    assert (failed.value.status, failed.value.type, failed.value.reason, failed.value.body) == (
        status,
        type_,
        "no",
        body,
    )
    assert len(fake.requests) == 1


def test_no_retry_once_an_answer_has_begun(fake: FakeProvider) -> None:
    fake.default = ANSWER
    fake.enqueue(Reply.sse([frame(CHUNK)], headers=SSE, end="eof"))
    with client(fake) as sdk:
        stream = sdk.chat_completion(model="c", messages=MESSAGES, stream=True)
        assert next(stream).content == "Hi"
        with pytest.raises(APIConnectionError, match="broke during the stream"):
            next(stream)
        assert len(fake.requests) == 1
        cut = Reply.fixed(200, b'{"completion":[{"res', {**JSON, "content-length": "100"}, end="eof")
        fake.enqueue(cut)
        with pytest.raises(APIConnectionError, match="while the answer was read"):
            sdk.completion(model="w", prompt="p")
        assert len(fake.requests) == 2


def test_a_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with (
            InferenceClient(f"http://127.0.0.1:{port}", max_retries=0) as sdk,
            pytest.raises(APIConnectionError),
        ):
            sdk.endpoints.list()


# --- streams -------------------------------------------------------------------------------


def test_a_stream_without_done_raises(fake: FakeProvider) -> None:
    fake.enqueue(Reply.sse([frame(CHUNK)], headers=SSE))
    with client(fake) as sdk, sdk.chat_completion(model="c", messages=MESSAGES, stream=True) as stream:
        assert next(stream).content == "Hi"
        with pytest.raises(APIConnectionError, match=r"without \[DONE\]"):
            next(stream)
    fake.enqueue(Reply.sse([frame(CHUNK), b'event: message\ndata: {"id"'], headers=SSE))
    with client(fake) as sdk, pytest.raises(APIConnectionError, match="middle of an event"):
        list(sdk.chat_completion(model="c", messages=MESSAGES, stream=True))


def test_elasticsearch_frames_with_a_bom_each(fake: FakeProvider) -> None:
    """Elasticsearch writes a BOM before every frame: the error frame's ``event:`` line is lost
    to a standard decoder, yet the error is raised."""
    done = [frame(CHUNK, bom=True), frame(CHUNK, bom=True), frame("[DONE]", bom=True)]
    error = {"error": {"code": "stream_error", "message": "provider broke", "type": "error"}}
    broken = [frame(CHUNK, bom=True), frame(CHUNK, bom=True), frame(error, "error", bom=True)]
    fake.enqueue(Reply.sse(done, headers=SSE), Reply.sse(broken, headers=SSE))
    with client(fake) as sdk:
        assert [c.content for c in sdk.chat_completion(model="c", messages=MESSAGES, stream=True)] == [
            "Hi",
            "Hi",
        ]
        seen: list[str] = []
        with pytest.raises(InternalServerError) as failed:
            seen.extend(c.content for c in sdk.chat_completion(model="c", messages=MESSAGES, stream=True))
    assert seen == ["Hi", "Hi"]
    assert (failed.value.status, failed.value.code, failed.value.reason) == (
        500,
        "stream_error",
        "provider broke",
    )


def test_error_frames_carry_their_status(fake: FakeProvider) -> None:
    limited = es_error(429, "status_exception", "slow down")
    fake.enqueue(
        Reply.sse([frame({"completion": [{"delta": "a"}]}), frame(limited, "error")], headers=SSE),
        Reply.sse(
            [
                frame(
                    {"error": {"code": "request_timeout", "message": "late", "type": "status_exception"}},
                    "error",
                )
            ],
            headers=SSE,
        ),
    )
    with client(fake) as sdk:
        text = sdk.completion(model="w", prompt="p", stream=True)
        assert next(text).content == "a"
        with pytest.raises(RateLimitError, match="slow down"):
            next(text)
        with pytest.raises(RequestTimeoutError, match="late"):
            list(sdk.chat_completion(model="c", messages=MESSAGES, stream=True))


def test_a_refused_stream_is_raised_by_the_call(fake: FakeProvider) -> None:
    body = {
        "error": {
            "code": "not_found",
            "message": "Inference endpoint not found [c]",
            "type": "resource_not_found_exception",
        }
    }
    fake.enqueue(Reply.fixed(404, frame(body, "error"), SSE))
    with client(fake) as sdk, pytest.raises(NotFoundError) as missing:
        sdk.chat_completion(model="c", messages=MESSAGES, stream=True)
    assert (missing.value.reason, missing.value.code) == ("Inference endpoint not found [c]", "not_found")


def test_a_body_that_is_not_json(fake: FakeProvider) -> None:
    fake.enqueue(Reply.fixed(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"}))
    with client(fake, max_retries=0) as sdk, pytest.raises(InternalServerError) as failed:
        sdk.completion(model="w", prompt="p")
    assert failed.value.reason == "<html>Bad Gateway</html>" and failed.value.type is None


# --- timeouts and headers ------------------------------------------------------------------


def test_a_silent_service_is_a_timeout(fake: FakeProvider) -> None:
    fake.enqueue(Reply.hang())
    started = time.monotonic()
    with client(fake) as sdk, pytest.raises(APITimeoutError):
        sdk.completion(model="w", prompt="p", timeout=0.3)
    assert time.monotonic() - started < 3
    sent = fake.last_request.query  # the service is told the same budget
    assert sent.startswith("timeout=") and sent.endswith("ms") and 0 < int(sent[8:-2]) <= 300


def test_headers(fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.default = Reply.json(200, {"endpoints": []}, JSON)
    monkeypatch.setenv("INFERENCE_SERVICE_URL", fake.url)
    monkeypatch.setenv("INFERENCE_SERVICE_API_KEY", "aWQ6a2V5")
    with InferenceClient() as sdk:
        assert sdk.endpoints.list() == []
    request = fake.last_request
    assert (request.method, request.path) == ("GET", "/_inference/_all")
    assert request.headers["authorization"] == "ApiKey aWQ6a2V5"
    assert request.headers["user-agent"].startswith("inference-service-python/")
    assert "idempotency-key" not in request.headers  # POSTs only
    with InferenceClient(fake.url, api_key="b3RoZXI=") as sdk:
        sdk.endpoints.list(task_type="rerank")
    assert fake.last_request.headers["authorization"] == "ApiKey b3RoZXI="
    assert fake.last_request.path == "/_inference/rerank/_all"


# --- async ---------------------------------------------------------------------------------


def test_async_retries_and_cut_streams(fake: FakeProvider) -> None:
    async def main() -> None:
        fake.enqueue(failing(503, retry_after="0"), ANSWER)
        async with AsyncInferenceClient(fake.url, timeout=10) as sdk:
            assert (await sdk.completion(model="w", prompt="p")).content == "fine"
            assert len({r.headers["idempotency-key"] for r in fake.requests}) == 1
            fake.enqueue(Reply.sse([frame(CHUNK)], headers=SSE, end="eof"))
            stream = await sdk.chat_completion(model="c", messages=MESSAGES, stream=True)
            with pytest.raises(APIConnectionError):
                async with stream:
                    async for _ in stream:
                        pass
            assert len(fake.requests) == 3
            fake.enqueue(Reply.hang())
            with pytest.raises(APITimeoutError):
                await sdk.embedding(model="e", input="x", timeout=0.2)

    asyncio.run(main())


@pytest.mark.parametrize("streaming", [False, True])
def test_stream_as_a_bool_variable_is_typed(fake: FakeProvider, streaming: bool) -> None:
    """``stream=flag`` with a plain bool type-checks (mypy runs on this file) and answers the
    union; the literal forms keep their precise types."""
    done = [frame(CHUNK), frame("[DONE]")]
    chat = Reply.json(
        200,
        {"id": "c1", "model": "m", "choices": [{"message": {"role": "assistant", "content": "Hi"}}]},
        JSON,
    )
    texts = [frame({"completion": [{"delta": "fine"}]}), frame("[DONE]")]
    fake.enqueue(
        *([Reply.sse(done, headers=SSE), Reply.sse(texts, headers=SSE)] if streaming else [chat, ANSWER])
    )
    with client(fake) as sdk:
        answer = assert_type(
            sdk.chat_completion(model="c", messages=MESSAGES, stream=streaming), ChatCompletion | Stream
        )
        text = assert_type(sdk.completion(model="w", prompt="p", stream=streaming), Completion | Stream)
        if streaming:
            assert isinstance(answer, Stream) and isinstance(text, Stream)
            assert [c.content for c in answer] == ["Hi"] and [c.content for c in text] == ["fine"]
        else:
            assert isinstance(answer, ChatCompletion) and answer.content == "Hi"
            assert isinstance(text, Completion) and text.content == "fine"

    async def main() -> None:
        fake.enqueue(Reply.sse(done, headers=SSE) if streaming else chat)
        async with AsyncInferenceClient(fake.url, timeout=10) as asdk:
            got = await asdk.chat_completion(model="c", messages=MESSAGES, stream=streaming)
            assert_type(got, ChatCompletion | AsyncStream)
            if isinstance(got, AsyncStream):
                assert [c.content async for c in got] == ["Hi"]
            else:
                assert got.content == "Hi"
            assert isinstance(got, AsyncStream) is streaming

    asyncio.run(main())
