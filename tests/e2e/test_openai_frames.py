"""The bytes of ``/v1`` streams, frame by frame: OpenAI's data-only SSE (``data: {chunk}\\n\\n`` ...
``data: [DONE]\\n\\n``), the usage chunk only when asked, one ``data: {"error": ...}`` frame and
no ``[DONE]`` after a failure, a JSON error (no stream) before the first byte."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

pytestmark = pytest.mark.usefixtures("fresh_upstream")
_ids = itertools.count()
HI = [{"role": "user", "content": "Hi"}]
MODEL = "gpt-4o-mini-2024-07-18"
USAGE = {"prompt_tokens": 16, "completion_tokens": 2, "total_tokens": 18}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("frames")) as running:
        yield running


def endpoint(svc: RunningService, upstream: FakeProvider, task_type: str = "chat_completion") -> str:
    inference_id = f"frames-{next(_ids)}"
    settings: dict[str, Any] = {
        "api_key": "sk-frames",
        "model_id": "gpt-4o-mini",
        "url": upstream.url + "/v1/chat/completions",
        "upstream_max_retries": 0,
    }
    body = {"service": "openai", "service_settings": settings}
    created = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def post(svc: RunningService, path: str, body: dict[str, Any]) -> tuple[httpx.Response, int]:
    """The response and the ``created`` time its first frame carries (one for the whole stream)."""
    response = httpx.post(svc.url + path, json=body, timeout=10)
    found = re.match(rb'data: \{"created":(\d+),', response.content)
    return response, int(found.group(1)) if found else 0


def chunk(created: int, rest: str) -> bytes:
    return b'data: {"created":%d,' % created + rest.encode() + b"\n\n"


def test_a_stream_without_usage_is_byte_exact(svc: RunningService, upstream: FakeProvider) -> None:
    model = endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hel", "lo"], model=MODEL, usage=USAGE)))
    response, created = post(svc, "/v1/chat/completions", {"model": model, "messages": HI, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert "x-elastic-product" not in response.headers
    assert created > 1_700_000_000
    head = '"id":"chatcmpl-123","choices":[{"delta":'
    tail = f'"model":"{MODEL}","object":"chat.completion.chunk"}}'
    assert response.content == b"".join(
        [
            chunk(created, head + '{"content":"","role":"assistant"},"index":0}],' + tail),
            chunk(created, head + '{"content":"Hel"},"index":0}],' + tail),
            chunk(created, head + '{"content":"lo"},"index":0}],' + tail),
            chunk(created, head + '{},"finish_reason":"stop","index":0}],' + tail),
            b"data: [DONE]\n\n",
        ]
    )


def test_the_usage_chunk_comes_last_when_asked(svc: RunningService, upstream: FakeProvider) -> None:
    model = endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"], model=MODEL, usage=USAGE)))
    body = {"model": model, "messages": HI, "stream": True, "stream_options": {"include_usage": True}}
    response, created = post(svc, "/v1/chat/completions", body)
    frames = response.content.split(b"\n\n")
    usage = '"usage":{"completion_tokens":2,"prompt_tokens":16,"total_tokens":18}}'
    last = f'"id":"chatcmpl-123","choices":[],"model":"{MODEL}","object":"chat.completion.chunk",{usage}'
    assert frames[-3:] == [chunk(created, last)[:-2], b"data: [DONE]", b""]
    assert len(frames) == 6  # role, "ok", finish, usage, [DONE] and the empty tail
    assert upstream.last_request.json["stream_options"] == {"include_usage": True}


def test_a_failure_after_the_first_byte_is_one_error_frame_and_no_done(
    svc: RunningService, upstream: FakeProvider
) -> None:
    model = endpoint(svc, upstream)
    frames = fake_openai.stream(["partial"], model=MODEL, done=False, include_usage=False)[:2]
    upstream.enqueue(
        Reply.sse([*frames, fake_openai.error_frame("Overloaded", "server_error", "overloaded")])
    )
    response, created = post(svc, "/v1/chat/completions", {"model": model, "messages": HI, "stream": True})
    assert response.status_code == 200
    head = '"id":"chatcmpl-123","choices":[{"delta":'
    tail = f'"model":"{MODEL}","object":"chat.completion.chunk"}}'
    assert response.content == b"".join(
        [
            chunk(created, head + '{"content":"","role":"assistant"},"index":0}],' + tail),
            chunk(created, head + '{"content":"partial"},"index":0}],' + tail),
            b'data: {"error":{"message":"Received an error response for request from inference entity id ['
            + model.encode()
            + b']. Error message: [Overloaded]","type":"server_error","param":null,"code":"overloaded"}}\n\n',
        ]
    )


def test_a_stream_cut_short_ends_with_an_error_frame(svc: RunningService, upstream: FakeProvider) -> None:
    model = endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["a", "b"], model=MODEL)[:3]))  # no [DONE]
    response, _ = post(svc, "/v1/chat/completions", {"model": model, "messages": HI, "stream": True})
    frames = response.content.split(b"\n\n")
    assert frames[-1] == b"" and len(frames) == 5  # role, "a", "b", the error, the empty tail
    assert frames[-2].startswith(b'data: {"error":{"message":"The provider closed the stream')
    assert b"data: [DONE]" not in frames


def test_a_failure_before_the_first_byte_is_a_json_error_not_a_stream(
    svc: RunningService, upstream: FakeProvider
) -> None:
    model = endpoint(svc, upstream)
    upstream.enqueue(Reply.json(503, fake_openai.error_body("The engine is overloaded", "server_error")))
    response, _ = post(svc, "/v1/chat/completions", {"model": model, "messages": HI, "stream": True})
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert list(error) == ["message", "type", "param", "code"]
    assert error["type"] == "server_error" and "The engine is overloaded" in error["message"]


def test_a_legacy_completions_stream_is_byte_exact(svc: RunningService, upstream: FakeProvider) -> None:
    model = endpoint(svc, upstream, "completion")
    upstream.enqueue(Reply.sse(fake_openai.stream(["one", " two"], model=MODEL, usage=USAGE)))
    response = httpx.post(
        f"{svc.url}/v1/completions", json={"model": model, "prompt": "count", "stream": True}, timeout=10
    )
    assert response.status_code == 200
    found = re.search(rb'"created":(\d+),', response.content)
    assert found is not None
    created = int(found.group(1))

    def text(piece: str, finish: str | None) -> bytes:
        reason = "null" if finish is None else f'"{finish}"'
        return (
            f'data: {{"id":"chatcmpl-123","object":"text_completion","created":{created},"model":"{MODEL}",'
            f'"choices":[{{"text":"{piece}","index":0,"logprobs":null,"finish_reason":{reason}}}]}}\n\n'
        ).encode()

    assert response.content == text("one", None) + text(" two", None) + text("", "stop") + b"data: [DONE]\n\n"
