"""Streaming chat and completion end to end: the service under hypercorn, a fake OpenAI server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from tests.fakes import openai as fake_openai
from tests.fakes.openai import error_body, error_frame
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.sse import fixture_frames
from tests.support.service import RunningService, migrated_service

CHAT = {"messages": [{"role": "user", "content": "What is Elasticsearch?"}]}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(
        tmp_path_factory.mktemp("stream"),
        stream_idle_timeout=0.5,
        catalog_refresh_interval=3600,
        usage_flush_interval=3600,  # the usage flush writes on its own timer, not on the stream path
    ) as running:
        yield running


@pytest.fixture(scope="module")
def patient_svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A long idle limit, so only a disconnect can close the upstream in the disconnect tests."""
    with migrated_service(tmp_path_factory.mktemp("patient"), stream_idle_timeout=60) as running:
        yield running


_counter = iter(range(10**6))


def make_endpoint(
    svc: RunningService,
    upstream: FakeProvider,
    task_type: str = "chat_completion",
    *,
    retries: int | None = None,
    **task: Any,
) -> str:
    inference_id = f"ep-{next(_counter)}"
    settings: dict[str, Any] = {
        "api_key": "sk-test-secret",
        "model_id": "gpt-4o-mini",
        "url": upstream.url + "/v1/chat/completions",
        "organization_id": "org-1",
    }
    if retries is not None:
        settings["upstream_max_retries"] = retries
    body = {"service": "openai", "service_settings": settings, "task_settings": task}
    response = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body)
    assert response.status_code == 200, response.text
    return inference_id


def stream(svc: RunningService, inference_id: str, body: Any = CHAT, query: str = "") -> httpx.Response:
    return httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream{query}", json=body, timeout=10
    )


def events(raw: str) -> list[tuple[str, str]]:
    out = []
    for block in raw.split("\n\n"):
        if block:
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            out.append((lines["event"], lines["data"]))
    return out


def test_text_stream_is_byte_exact(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, user="alice")
    upstream.enqueue(
        Reply.sse(
            fake_openai.stream(
                ["Elastic", " is search."],
                model="gpt-4o-mini-2024-07-18",
                usage={"prompt_tokens": 16, "completion_tokens": 2, "total_tokens": 18},
            )
        )
    )
    response = stream(svc, inference_id)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    assert response.text == (
        "event: message\n"
        'data: {"id":"chatcmpl-123","choices":[{"delta":{"content":"","role":"assistant"},"index":0}],'
        '"model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk"}\n\n'
        "event: message\n"
        'data: {"id":"chatcmpl-123","choices":[{"delta":{"content":"Elastic"},"index":0}],'
        '"model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk"}\n\n'
        "event: message\n"
        'data: {"id":"chatcmpl-123","choices":[{"delta":{"content":" is search."},"index":0}],'
        '"model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk"}\n\n'
        "event: message\n"
        'data: {"id":"chatcmpl-123","choices":[{"delta":{},"finish_reason":"stop","index":0}],'
        '"model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk"}\n\n'
        "event: message\n"
        'data: {"id":"chatcmpl-123","choices":[],"model":"gpt-4o-mini-2024-07-18",'
        '"object":"chat.completion.chunk","usage":{"completion_tokens":2,"prompt_tokens":16,"total_tokens":18}}\n\n'
        "event: message\ndata: [DONE]\n\n"
    )
    sent = upstream.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-secret"
    assert sent.headers["openai-organization"] == "org-1"
    assert sent.json == {
        "messages": [{"role": "user", "content": "What is Elasticsearch?"}],
        "model": "gpt-4o-mini",
        "user": "alice",
        "n": 1,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_request_fields_and_tools_reach_the_provider(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, headers={"x-tenant": "t1"})
    upstream.enqueue(
        Reply.sse(
            fake_openai.stream(
                tool_calls=[fake_openai.ToolCall("call_1", "get_weather", ['{"city":', '"Oslo"}'])]
            )
        )
    )
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "max_completion_tokens": 50,
        "temperature": 0.2,
        "stop": ["\n\n"],
    }
    response = stream(svc, inference_id, body)
    assert response.status_code == 200
    got = events(response.text)
    assert json.loads(got[0][1])["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "id": "call_1", "function": {"arguments": "", "name": "get_weather"}, "type": "function"}
    ]
    arguments = "".join(
        json.loads(data)["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
        for _, data in got[1:3]
    )
    assert arguments == '{"city":"Oslo"}'
    assert json.loads(got[3][1])["choices"][0]["finish_reason"] == "tool_calls"
    assert got[-1] == ("message", "[DONE]")
    sent = upstream.requests[-1]
    assert sent.headers["x-tenant"] == "t1"
    assert {
        k: sent.json[k] for k in ("model", "max_completion_tokens", "temperature", "stop", "tool_choice")
    } == {
        "model": "gpt-4o",
        "max_completion_tokens": 50,
        "temperature": 0.2,
        "stop": ["\n\n"],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }


@pytest.mark.parametrize(
    ("status", "body", "expected_status", "code", "error_type"),
    [
        (
            401,
            error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
            401,
            "invalid_api_key",
            "invalid_request_error",
        ),
        (
            404,
            error_body("The model `x` does not exist", "invalid_request_error", "model_not_found"),
            404,
            "model_not_found",
            "invalid_request_error",
        ),
        (
            429,
            error_body("Rate limit reached", "requests", "rate_limit_exceeded"),
            429,
            "rate_limit_exceeded",
            "requests",
        ),
        (
            500,
            error_body("The server had an error", "server_error", None),
            502,
            "bad_gateway",
            "server_error",
        ),
    ],
)
def test_upstream_http_errors_keep_their_status(
    svc: RunningService,
    upstream: FakeProvider,
    status: int,
    body: Any,
    expected_status: int,
    code: str,
    error_type: str,
) -> None:
    inference_id = make_endpoint(svc, upstream, retries=0)  # the mapping, not the retries
    upstream.enqueue(Reply.json(status, body))
    response = stream(svc, inference_id)
    assert response.status_code == expected_status
    [(kind, data)] = events(response.text)
    assert kind == "error"
    error = json.loads(data)["error"]
    assert (error["code"], error["type"]) == (code, error_type)
    assert body["error"]["message"] in error["message"]
    assert f"inference entity id [{inference_id}] status [{status}]" in error["message"]
    assert "sk-test-secret" not in response.text


def mid_stream_error(
    svc: RunningService, upstream: FakeProvider, reply: Reply
) -> tuple[int, list[tuple[str, str]]]:
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(reply)
    response = stream(svc, inference_id)
    return response.status_code, events(response.text)


def test_upstream_error_event_mid_stream_ends_with_error_frame(
    svc: RunningService, upstream: FakeProvider
) -> None:
    chunks = [
        *fake_openai.stream(["Hi"])[:2],
        error_frame("Upstream overloaded", "server_error", "overloaded"),
    ]
    status, got = mid_stream_error(svc, upstream, Reply.sse(chunks))
    assert status == 200
    assert got[-1][0] == "error" and ("message", "[DONE]") not in got
    error = json.loads(got[-1][1])["error"]
    assert error["code"] == "overloaded" and error["type"] == "server_error"
    assert "Upstream overloaded" in error["message"]


def test_malformed_upstream_frame_is_an_error_not_a_stop(svc: RunningService, upstream: FakeProvider) -> None:
    chunks = [*fake_openai.stream(["Hi"])[:2], b"data: {not json\n\n"]
    status, got = mid_stream_error(svc, upstream, Reply.sse(chunks))
    assert status == 200
    assert got[-1][0] == "error" and ("message", "[DONE]") not in got
    error = json.loads(got[-1][1])["error"]
    assert error["code"] == "stream_error" and error["type"] == "x_content_parse_exception"


def test_stream_cut_before_done_is_an_error(svc: RunningService, upstream: FakeProvider) -> None:
    status, got = mid_stream_error(svc, upstream, Reply.sse(fake_openai.stream(["Hi", "there"])[:3]))
    assert status == 200
    assert [kind for kind, _ in got] == ["message", "message", "message", "error"]
    assert "before it was complete" in json.loads(got[-1][1])["error"]["message"]


def test_connection_reset_mid_stream_is_an_error(svc: RunningService, upstream: FakeProvider) -> None:
    status, got = mid_stream_error(svc, upstream, Reply.sse(fake_openai.stream(["Hi"])[:2], end="reset"))
    assert status == 200
    assert got[-1][0] == "error" and ("message", "[DONE]") not in got


def test_timeout_before_first_chunk_is_408_and_cancels_upstream(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["late"]), first_byte_delay=30))
    started = time.monotonic()
    response = stream(svc, inference_id, query="?timeout=300ms")
    assert response.status_code == 408
    assert response.text == (
        "event: error\ndata: "
        '{"error":{"code":"request_timeout","message":"Request timed out after [300ms]",'
        '"type":"status_exception"}}\n\n'
    )
    assert time.monotonic() - started < 5
    upstream.wait_for_disconnect(timeout=1.0)


def test_rate_limit_queues_within_the_deadline(svc: RunningService, upstream: FakeProvider) -> None:
    """60 requests per minute: one token, refilled each second. A second request at once must
    wait about a second: with a 300 ms timeout it gives up (408) and never reaches the provider."""
    inference_id = f"ep-{next(_counter)}"
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "k",
            "model_id": "m",
            "url": upstream.url + "/v1/chat/completions",
            "rate_limit": {"requests_per_minute": 60},
        },
    }
    assert httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}", json=body).status_code == 200
    upstream.enqueue(Reply.sse(fake_openai.stream(["one"])), Reply.sse(fake_openai.stream(["two"])))
    assert stream(svc, inference_id).status_code == 200
    sent = len(upstream.requests)
    queued = stream(svc, inference_id, query="?timeout=300ms")
    assert queued.status_code == 408
    assert len(upstream.requests) == sent
    time.sleep(1.1)
    assert stream(svc, inference_id).status_code == 200  # the abandoned reservation was returned


def test_bad_timeout_value_is_a_json_parse_exception(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream)
    response = stream(svc, inference_id, query="?timeout=30")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "parse_exception"


def test_idle_limit_between_chunks_ends_stream_with_error(
    svc: RunningService, upstream: FakeProvider
) -> None:
    status, got = mid_stream_error(svc, upstream, Reply.sse(fake_openai.stream(["a", "b"]), gap=3))
    assert status == 200
    assert got[0][0] == "message"
    assert got[-1][0] == "error" and ("message", "[DONE]") not in got
    assert "sent nothing" in json.loads(got[-1][1])["error"]["message"]


def test_client_disconnect_mid_stream_closes_upstream(
    patient_svc: RunningService, upstream: FakeProvider
) -> None:
    svc = patient_svc
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["first"])[:2], end="hang"))
    with httpx.stream(
        "POST", f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=CHAT
    ) as response:
        assert response.status_code == 200
        next(response.iter_raw())
    upstream.wait_for_disconnect(timeout=1.0)


def test_client_disconnect_before_first_token_closes_upstream(
    patient_svc: RunningService, upstream: FakeProvider
) -> None:
    svc = patient_svc
    inference_id = make_endpoint(svc, upstream)
    before = len(upstream.requests)
    upstream.enqueue(Reply.sse(fake_openai.stream(["x"]), first_byte_delay=30))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=CHAT, timeout=0.5)
    upstream.wait_for_requests(before + 1)
    upstream.wait_for_disconnect(timeout=1.5, index=before)


def test_completion_stream_and_result(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, task_type="completion")
    upstream.enqueue(Reply.sse(fake_openai.stream(["Elastic is", " a search company."])))
    response = httpx.post(
        f"{svc.url}/_inference/completion/{inference_id}/_stream", json={"input": "What is Elastic?"}
    )
    assert response.text == (
        'event: message\ndata: {"completion":[{"delta":"Elastic is"}]}\n\n'
        'event: message\ndata: {"completion":[{"delta":" a search company."}]}\n\n'
        "event: message\ndata: [DONE]\n\n"
    )
    assert upstream.requests[-1].json["messages"] == [{"role": "user", "content": "What is Elastic?"}]
    upstream.enqueue(Reply.sse(fake_openai.stream(["Elastic", "!"])))
    result = httpx.post(f"{svc.url}/_inference/completion/{inference_id}", json={"input": "x"})
    assert result.status_code == 200
    assert result.json() == {"completion": [{"result": "Elastic!"}]}


def test_completion_task_settings_override_per_request(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, task_type="completion", user="stored")
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])))
    response = httpx.post(
        f"{svc.url}/_inference/completion/{inference_id}",
        json={"input": "x", "task_settings": {"user": "per-call"}},
    )
    assert response.status_code == 200, response.text
    assert upstream.requests[-1].json["user"] == "per-call"
    bad = httpx.post(
        f"{svc.url}/_inference/completion/{inference_id}", json={"input": "x", "task_settings": {"nope": 1}}
    )
    assert bad.status_code == 400
    assert "Configuration contains settings [{nope=1}] unknown to the [openai] service" in bad.text
    stored = httpx.get(f"{svc.url}/_inference/{inference_id}").json()["endpoints"][0]
    assert stored["task_settings"] == {"user": "stored"}


def test_completion_body_timeout_applies(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, task_type="completion")
    upstream.enqueue(Reply.sse(fake_openai.stream(["late"]), first_byte_delay=30))
    response = httpx.post(
        f"{svc.url}/_inference/completion/{inference_id}", json={"input": "x", "timeout": "200ms"}
    )
    assert response.status_code == 408
    assert response.json()["error"]["reason"] == "Request timed out after [200ms]"
    upstream.wait_for_disconnect(timeout=1.0)
    bad = httpx.post(f"{svc.url}/_inference/completion/{inference_id}", json={"input": "x", "timeout": "2"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "parse_exception"


def test_completion_errors_use_the_es_envelope(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, task_type="completion")
    upstream.enqueue(Reply.json(401, error_body("bad key", "invalid_request_error", "invalid_api_key")))
    response = httpx.post(f"{svc.url}/_inference/completion/{inference_id}/_stream", json={"input": "x"})
    assert response.status_code == 401
    [(kind, data)] = events(response.text)
    body = json.loads(data)
    assert kind == "error" and body["status"] == 401
    assert body["error"]["type"] == "invalid_request_error"
    response = httpx.post(
        f"{svc.url}/_inference/completion/{inference_id}/_stream", json={"input": [], "top_n": 1}
    )
    body = json.loads(events(response.text)[0][1])
    assert response.status_code == 400
    assert body["error"]["reason"] == (
        "Validation Failed: 1: Field [input] cannot be an empty array;"
        "2: Field [top_n] cannot be specified for task type [completion];"
    )


def test_chat_on_a_completion_endpoint_is_rejected(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream, task_type="completion")
    response = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=CHAT)
    assert response.status_code == 400
    error = json.loads(events(response.text)[0][1])["error"]
    assert error["message"] == (
        "Incompatible task_type for unified API, the requested type [completion] "
        "must be one of [chat_completion]"
    )


def test_stream_without_task_type_dispatches_on_the_endpoint(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])))
    response = httpx.post(f"{svc.url}/_inference/{inference_id}/_stream", json=CHAT)
    assert response.status_code == 200 and events(response.text)[-1] == ("message", "[DONE]")


def test_non_streaming_chat_is_one_chat_completion_object(
    svc: RunningService, upstream: FakeProvider
) -> None:
    """Elasticsearch 9.6: the stream put together, in its field order (9.1 answered 400)."""
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hello", " world"])))
    response = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}", json=CHAT)
    assert response.status_code == 200, response.text
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    answer = response.json()
    assert list(answer) == ["id", "choices", "model", "object", "usage"]
    assert answer["object"] == "chat.completion" and answer["id"] == fake_openai.CHUNK_ID
    assert answer["choices"] == [
        {"message": {"content": "Hello world", "role": "assistant"}, "finish_reason": "stop", "index": 0}
    ]
    assert (
        answer["usage"]["total_tokens"]
        == answer["usage"]["prompt_tokens"] + answer["usage"]["completion_tokens"]
    )
    assert upstream.last_request.json["stream"] is True  # the provider still streams


def test_non_streaming_chat_merges_tool_calls_from_the_recorded_stream(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fixture_frames("openai_tool_call")))
    answer = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}", json=CHAT).json()
    assert answer["choices"] == [
        {
            "message": {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_abc123",
                        "function": {"arguments": '{"location":"Boston, MA"}', "name": "get_current_weather"},
                        "type": "function",
                    }
                ],
            },
            "finish_reason": "tool_calls",
            "index": 0,
        }
    ]


def test_non_streaming_chat_errors_are_the_chat_error_body(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(
        Reply.json(401, error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key"))
    )
    response = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}", json=CHAT)
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["type"]) == ("invalid_api_key", "invalid_request_error")
    assert "Incorrect API key provided" in error["message"]
    missing = httpx.post(f"{svc.url}/_inference/chat_completion/no-such-endpoint", json=CHAT)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "not_found",
            "message": "Inference endpoint not found [no-such-endpoint]",
            "type": "resource_not_found_exception",
        }
    }
    invalid = httpx.post(f"{svc.url}/_inference/chat_completion/{inference_id}", json={"messages": []})
    assert invalid.status_code == 400 and invalid.json()["error"]["param"] == "$.messages"


def test_stream_path_makes_no_database_query(svc: RunningService, upstream: FakeProvider) -> None:
    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(*(Reply.sse(fake_openai.stream(["q"])) for _ in range(3)))
    queries: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    engine = svc.app.state.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            assert stream(svc, inference_id).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert queries == []


def test_openai_sdk_parses_the_stream(svc: RunningService, upstream: FakeProvider) -> None:
    import openai
    from openai.types.chat import ChatCompletionChunk

    inference_id = make_endpoint(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hello", " world"])))
    client = openai.OpenAI(base_url=svc.url, api_key="unused", max_retries=0)
    chunks = client.post(
        f"/_inference/chat_completion/{inference_id}/_stream",
        body=CHAT,
        cast_to=ChatCompletionChunk,
        stream=True,
        stream_cls=openai.Stream[ChatCompletionChunk],
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    client.close()
    assert text == "Hello world"


def test_put_validation_call_refuses_a_failing_provider(svc: RunningService, upstream: FakeProvider) -> None:
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "sk-bad",
            "model_id": "m",
            "url": upstream.url + "/v1/chat/completions",
        },
    }
    upstream.enqueue(
        Reply.json(401, error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key"))
    )
    refused = httpx.put(f"{svc.url}/_inference/chat_completion/validated-bad?validate=true", json=body)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["reason"] == (
        "Could not complete inference endpoint creation as validation call to service threw an exception."
    )
    assert "Incorrect API key provided" in error["caused_by"]["reason"]
    assert error["root_cause"][0]["type"] == "invalid_request_error"
    assert httpx.get(f"{svc.url}/_inference/validated-bad").status_code == 404
    upstream.enqueue(Reply.sse(fake_openai.stream(["fine"])))
    accepted = httpx.put(f"{svc.url}/_inference/chat_completion/validated-ok?validate=true", json=body)
    assert accepted.status_code == 200
    assert upstream.requests[-1].json["messages"] == [{"role": "user", "content": "how big"}]
