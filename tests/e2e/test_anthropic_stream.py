"""The anthropic provider end to end: request translation and stream translation, real sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes import anthropic as wire
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("anthropic")) as running:
        yield running


@pytest.fixture(scope="module")
def endpoint(svc: RunningService, upstream: FakeProvider) -> str:
    body = {
        "service": "anthropic",
        "service_settings": {
            "api_key": "sk-ant-secret",
            "model_id": "claude-sonnet-4-5",
            "url": upstream.url,
        },
        "task_settings": {"max_tokens": 256, "top_k": 5},
    }
    response = httpx.put(f"{svc.url}/_inference/chat_completion/claude", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["service_settings"]["rate_limit"] == {"requests_per_minute": 50}
    return "claude"


def chat(svc: RunningService, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{svc.url}/_inference/chat_completion/claude/_stream", json=body, timeout=10)


def data_of(response: httpx.Response) -> list[Any]:
    out = []
    for block in response.text.split("\n\n"):
        if block:
            kind, data = block.split("\n")
            out.append((kind.removeprefix("event: "), data.removeprefix("data: ")))
    return out


def test_text_stream_translates_to_unified_chunks(
    svc: RunningService, upstream: FakeProvider, endpoint: str
) -> None:
    upstream.enqueue(Reply.sse(wire.stream(["Hello", "!"], id="msg_01", model="claude-sonnet-4-5")))
    response = chat(
        svc, {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]}
    )
    assert response.status_code == 200
    assert response.text == (
        'event: message\ndata: {"id":"msg_01","choices":[{"delta":{"role":"assistant"},"index":0}],'
        '"model":"claude-sonnet-4-5","object":"chat.completion.chunk"}\n\n'
        'event: message\ndata: {"id":"msg_01","choices":[{"delta":{"content":"Hello"},"index":0}],'
        '"model":"claude-sonnet-4-5","object":"chat.completion.chunk"}\n\n'
        'event: message\ndata: {"id":"msg_01","choices":[{"delta":{"content":"!"},"index":0}],'
        '"model":"claude-sonnet-4-5","object":"chat.completion.chunk"}\n\n'
        'event: message\ndata: {"id":"msg_01","choices":[{"delta":{},"finish_reason":"stop","index":0}],'
        '"model":"claude-sonnet-4-5","object":"chat.completion.chunk"}\n\n'
        'event: message\ndata: {"id":"msg_01","choices":[],"model":"claude-sonnet-4-5",'
        '"object":"chat.completion.chunk","usage":{"completion_tokens":15,"prompt_tokens":25,"total_tokens":40}}\n\n'
        "event: message\ndata: [DONE]\n\n"
    )
    sent = upstream.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-secret"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stream": True,
        "system": "Be kind.",
        "top_k": 5,
    }


def test_tools_round_trip(svc: RunningService, upstream: FakeProvider, endpoint: str) -> None:
    upstream.enqueue(
        Reply.sse(
            wire.stream(
                ["Checking."], tool_uses=[wire.ToolUse("toolu_01", "get_weather", ['{"city":', ' "Oslo"}'])]
            )
        )
    )
    body = {
        "messages": [
            {"role": "user", "content": "Weather in Oslo and Bergen?"},
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "toolu_00",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Bergen"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_00", "content": "3°C, rain"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
        "tool_choice": "required",
        "max_completion_tokens": 100,
        "temperature": 0.5,
        "stop": ["END"],
    }
    response = chat(svc, body)
    got = [json.loads(d) for k, d in data_of(response) if d != "[DONE]"]
    assert got[1]["choices"][0]["delta"] == {"content": "Checking."}
    assert got[2]["choices"][0]["delta"]["tool_calls"] == [
        {
            "index": 0,
            "id": "toolu_01",
            "function": {"arguments": "", "name": "get_weather"},
            "type": "function",
        }
    ]
    args = "".join(c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in got[3:5])
    assert json.loads(args) == {"city": "Oslo"}
    assert got[5]["choices"][0]["finish_reason"] == "tool_calls"
    sent = upstream.requests[-1].json
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo and Bergen?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_00", "name": "get_weather", "input": {"city": "Bergen"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_00",
                    "content": [{"type": "text", "text": "3°C, rain"}],
                }
            ],
        },
    ]
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert sent["tool_choice"] == {"type": "any"}
    assert (sent["max_tokens"], sent["temperature"], sent["stop_sequences"]) == (100, 0.5, ["END"])


def test_mid_stream_error_event(svc: RunningService, upstream: FakeProvider, endpoint: str) -> None:
    chunks = [*wire.stream(["Hi"])[:4], wire.error_event("overloaded_error", "Overloaded")]
    upstream.enqueue(Reply.sse(chunks))
    got = data_of(chat(svc, {"messages": [{"role": "user", "content": "x"}]}))
    assert got[-1][0] == "error" and ("message", "[DONE]") not in got
    error = json.loads(got[-1][1])["error"]
    assert error["type"] == "overloaded_error" and "Overloaded" in error["message"]


def test_upstream_error_status_and_type(svc: RunningService, upstream: FakeProvider, endpoint: str) -> None:
    upstream.enqueue(Reply.json(401, wire.error_body("authentication_error", "invalid x-api-key")))
    response = chat(svc, {"messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 401
    error = json.loads(data_of(response)[0][1])["error"]
    assert error["type"] == "authentication_error" and "invalid x-api-key" in error["message"]
    upstream.enqueue(Reply.json(529, wire.error_body("overloaded_error", "Overloaded")))
    assert chat(svc, {"messages": [{"role": "user", "content": "x"}]}).status_code == 502


def test_stream_without_message_stop_is_an_error(
    svc: RunningService, upstream: FakeProvider, endpoint: str
) -> None:
    upstream.enqueue(Reply.sse(wire.stream(["Hi"])[:-1]))
    got = data_of(chat(svc, {"messages": [{"role": "user", "content": "x"}]}))
    assert got[-1][0] == "error" and ("message", "[DONE]") not in got


def test_max_tokens_task_setting_is_required(svc: RunningService, upstream: FakeProvider) -> None:
    body = {"service": "anthropic", "service_settings": {"api_key": "k", "model_id": "m"}}
    response = httpx.put(f"{svc.url}/_inference/chat_completion/claude-no-max", json=body)
    assert response.status_code == 400
    assert (
        "[task_settings] does not contain the required setting [max_tokens]"
        in response.json()["error"]["reason"]
    )


def test_arguments_that_are_not_an_object_are_refused(
    svc: RunningService, upstream: FakeProvider, endpoint: str
) -> None:
    before = len(upstream.requests)
    body = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "t", "type": "function", "function": {"name": "f", "arguments": "[1]"}}
                ],
            },
            {"role": "tool", "tool_call_id": "t", "content": "x"},
        ]
    }
    response = chat(svc, body)
    assert response.status_code == 400
    error = json.loads(data_of(response)[0][1])["error"]
    assert error["param"] == "$.messages[0].tool_calls[0].function.arguments"
    assert len(upstream.requests) == before


def test_completion_task_through_anthropic(svc: RunningService, upstream: FakeProvider) -> None:
    body = {
        "service": "anthropic",
        "service_settings": {"api_key": "sk-ant", "model_id": "claude-x", "url": upstream.url},
        "task_settings": {"max_tokens": 64},
    }
    assert httpx.put(f"{svc.url}/_inference/completion/claude-complete", json=body).status_code == 200
    upstream.enqueue(Reply.sse(wire.stream(["Elastic is", " search."])))
    response = httpx.post(
        f"{svc.url}/_inference/completion/claude-complete", json={"input": "What is Elastic?"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"completion": [{"result": "Elastic is search."}]}
    sent = upstream.requests[-1].json
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "What is Elastic?"}]}]
    assert sent["max_tokens"] == 64
