"""``/v1/chat/completions`` driven by the real ``openai`` SDK against a wire-faithful OpenAI fake:
non-streaming and streaming (with and without usage), tool calls, refusals, errors, frames."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.sse import fixture_frames
from tests.support.service import RunningService

_ids = itertools.count()
HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def client(service: RunningService) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk:
        yield sdk


def chat_endpoint(
    service: RunningService, upstream: FakeProvider, *, retries: int | None = None, **task: str
) -> str:
    inference_id = f"v1-chat-{next(_ids)}"
    settings: dict[str, Any] = {
        "api_key": "sk-v1",
        "model_id": "gpt-4o-mini",
        "url": upstream.url + "/v1/chat/completions",
    }
    if retries is not None:
        settings["upstream_max_retries"] = retries
    body = {"service": "openai", "service_settings": settings, "task_settings": task}
    created = httpx.put(f"{service.url}/_inference/chat_completion/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def test_the_issue_snippet_non_streaming(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = chat_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hello", " there"])))
    resp = client.chat.completions.create(model=model, messages=HI, max_tokens=20, temperature=0.2)
    assert resp.choices[0].message.content == "Hello there"
    assert resp.choices[0].finish_reason == "stop" and resp.object == "chat.completion"
    assert resp.usage is not None and resp.usage.total_tokens > 0
    assert resp.created > 1_700_000_000
    sent = upstream.last_request.json
    assert sent["model"] == "gpt-4o-mini"  # the endpoint's model, not the inference id
    assert sent["max_completion_tokens"] == 20 and sent["temperature"] == 0.2 and sent["stream"] is True


def test_streaming_with_and_without_usage(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = chat_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["a", "b"])), Reply.sse(fake_openai.stream(["a", "b"])))
    chunks = list(client.chat.completions.create(model=model, messages=HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "ab"
    assert all(c.usage is None for c in chunks)
    with_usage = list(
        client.chat.completions.create(
            model=model,
            messages=HI,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert with_usage[-1].choices == [] and with_usage[-1].usage is not None
    assert all(c.object == "chat.completion.chunk" and c.created > 0 for c in with_usage)


def test_stream_frames_are_data_only(service: RunningService, upstream: FakeProvider) -> None:
    model = chat_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["x"])))
    raw = httpx.post(
        f"{service.url}/v1/chat/completions", json={"model": model, "messages": HI, "stream": True}
    )
    assert raw.headers["content-type"] == "text/event-stream"
    frames = raw.text.split("\n\n")
    assert frames[-2:] == ["data: [DONE]", ""]
    assert all(f.startswith('data: {"created":') for f in frames[:-2])
    assert "event:" not in raw.text


def test_tool_calls_round_trip(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = chat_endpoint(service, upstream)
    tools: list[ChatCompletionFunctionToolParam] = [
        {"type": "function", "function": {"name": "get_current_weather", "parameters": {"type": "object"}}}
    ]
    upstream.enqueue(Reply.sse(fixture_frames("openai_tool_call")))
    resp = client.chat.completions.create(model=model, messages=HI, tools=tools)
    (call,) = resp.choices[0].message.tool_calls or []
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert (call.id, call.function.name) == ("call_abc123", "get_current_weather")
    assert json.loads(call.function.arguments) == {"location": "Boston, MA"}
    upstream.enqueue(Reply.sse(fake_openai.stream(["Sunny."])))
    follow_up: list[ChatCompletionMessageParam] = [
        *HI,
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        {"role": "developer", "content": "Be brief."},
    ]
    answer = client.chat.completions.create(model=model, messages=follow_up, tools=tools)
    assert answer.choices[0].message.content == "Sunny."
    roles = [m["role"] for m in upstream.last_request.json["messages"]]
    assert roles == ["user", "assistant", "tool", "system"]  # developer is a system message


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"parallel_tool_calls": False}, "$.parallel_tool_calls"),  # without tools
        ({"max_tokens": 5, "max_completion_tokens": 5}, "max_tokens"),
        ({"logprobs": True}, "logprobs"),
        ({"frequency_penalty": 2.5}, "$.frequency_penalty"),  # beyond OpenAI's -2..2
        ({"presence_penalty": "high"}, "$.presence_penalty"),
        ({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}, "modalities"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"prediction": {"type": "content", "content": "x"}}, "$.prediction"),  # unknown
        ({"reasoning_effort": "extreme"}, "$.reasoning_effort"),
        ({"messages": []}, "$.messages"),
        # the Elasticsearch face's validation rules, the same function on both faces
        ({"tools": [{"type": "function", "function": {"name": "no spaces"}}]}, "$.tools[0].function.name"),
        (
            {
                "tools": [{"type": "function", "function": {"name": "lookup"}}],
                "tool_choice": {"type": "function", "function": {"name": "other"}},
            },
            "$.tool_choice.function.name",
        ),
        (
            {"messages": [*HI, {"role": "tool", "tool_call_id": "call_9", "content": "x"}]},
            "$.messages[1].tool_call_id",
        ),
    ],
)
def test_what_cannot_be_honoured_is_a_400_naming_the_field(
    service: RunningService,
    upstream: FakeProvider,
    client: openai.OpenAI,
    extra: dict[str, object],
    param: str,
) -> None:
    model = chat_endpoint(service, upstream)
    body = {"model": model, "messages": HI, **extra}
    response = httpx.post(f"{service.url}/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param and param.removeprefix("$.") in error["message"]
    assert upstream.requests == []


def test_neutral_values_of_what_no_provider_honours_are_accepted(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    """Clients that send every parameter at its default (``0``, ``false``, ``null``) are served."""
    model = chat_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["fine"])))
    answer = client.chat.completions.create(
        model=model,
        messages=HI,
        frequency_penalty=0,
        presence_penalty=0.0,
        logprobs=False,
        top_logprobs=0,
        logit_bias={},
        store=False,
        modalities=["text"],
        extra_body={"audio": None, "n": 1},
    )
    assert answer.choices[0].message.content == "fine"
    sent = upstream.last_request.json
    assert not {"logprobs", "logit_bias", "store", "audio"} & set(sent)
    # the penalties are the provider's own (test_penalties.py): their 0 goes as sent
    assert (sent["frequency_penalty"], sent["presence_penalty"]) == (0, 0)


def test_errors_map_to_the_sdks_exceptions(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = chat_endpoint(service, upstream)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-endpoint", messages=HI)
    assert (missing.value.code, missing.value.param) == ("model_not_found", "model")
    assert missing.value.message.endswith(
        "The model `no-such-endpoint` does not exist or is not a chat_completion endpoint"
    )
    upstream.enqueue(
        Reply.json(
            401,
            fake_openai.error_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
        )
    )
    with pytest.raises(openai.AuthenticationError) as refused:
        client.chat.completions.create(model=model, messages=HI, stream=True)
    assert refused.value.code == "invalid_api_key"
    upstream.enqueue(
        Reply.sse(
            [
                *fake_openai.stream(["partial"], done=False, include_usage=False)[:2],
                fake_openai.error_frame("boom", "server_error"),
            ]
        )
    )
    with pytest.raises(openai.APIError) as broken:
        list(client.chat.completions.create(model=model, messages=HI, stream=True))
    assert "boom" in str(broken.value)


def test_the_async_client_streams(service: RunningService, upstream: FakeProvider) -> None:
    model = chat_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["as", "ync"])))

    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=service.url + "/v1", api_key="unused", max_retries=0) as sdk:
            stream = await sdk.chat.completions.create(model=model, messages=HI, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == "async"


def completion_endpoint(service: RunningService, upstream: FakeProvider) -> str:
    inference_id = f"v1-completion-{next(_ids)}"
    body = {
        "service": "openai",
        "service_settings": {
            "api_key": "k",
            "model_id": "gpt-4o-mini",
            "url": upstream.url + "/v1/chat/completions",
        },
    }
    created = httpx.put(f"{service.url}/_inference/completion/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def test_legacy_completions(service: RunningService, upstream: FakeProvider, client: openai.OpenAI) -> None:
    model = completion_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["one"])), Reply.sse(fake_openai.stream(["two"])))
    answer = client.completions.create(model=model, prompt=["a", "b"], max_tokens=5)
    assert sorted(c.text for c in answer.choices) == ["one", "two"]
    assert [c.index for c in answer.choices] == [0, 1] and answer.object == "text_completion"
    assert answer.usage is not None and answer.usage.total_tokens > 0
    assert upstream.last_request.json["max_completion_tokens"] == 5
    upstream.enqueue(Reply.sse(fake_openai.stream(["str", "eam"])))
    streamed = list(client.completions.create(model=model, prompt="x", stream=True))
    assert "".join(c.choices[0].text for c in streamed) == "stream"
    with pytest.raises(openai.BadRequestError) as echo:
        client.completions.create(model=model, prompt="x", echo=True)
    assert "echo" in echo.value.message
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model=chat_endpoint(service, upstream), prompt="x")


def test_retry_after_of_a_throttling_provider_reaches_the_client(
    service: RunningService, upstream: FakeProvider
) -> None:
    model = chat_endpoint(service, upstream, retries=0)  # the pass-through, not the retries
    limited = fake_openai.error_body("Rate limit reached", "requests", "rate_limit_exceeded")
    headers = {"content-type": "application/json", "retry-after": "7"}
    upstream.enqueue(
        Reply.json(429, limited, headers),
        Reply.json(429, limited, headers),
        Reply.json(429, limited, headers),
    )
    for path, body in (
        ("/v1/chat/completions", {"model": model, "messages": HI}),
        ("/v1/chat/completions", {"model": model, "messages": HI, "stream": True}),
        (f"/_inference/chat_completion/{model}/_stream", {"messages": HI}),
    ):
        response = httpx.post(service.url + path, json=body)
        assert response.status_code == 429, (path, response.text)
        assert response.headers["retry-after"] == "7", path


def test_the_request_timeout_header_bounds_chat_both_ways(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = chat_endpoint(service, upstream)
    late = Reply.sse(fake_openai.stream(["late"])).replace(headers_delay=2.0)
    upstream.enqueue(late, late)
    shorter = {"x-request-timeout": "300ms"}
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as timed_out:
            client.chat.completions.create(model=model, messages=HI, stream=stream, extra_headers=shorter)
        assert timed_out.value.status_code == 408, stream
        assert timed_out.value.code == "request_timeout"
        assert timed_out.value.message.endswith("Request timed out after [300ms]")
    with pytest.raises(openai.BadRequestError) as unreadable:
        client.chat.completions.create(model=model, messages=HI, extra_headers={"x-request-timeout": "10"})
    assert unreadable.value.param == "X-Request-Timeout"
    assert "header [X-Request-Timeout] must be a time value such as [10s]" in unreadable.value.message


def test_every_listed_field_reaches_an_openai_provider(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = chat_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])))
    pdf = "data:application/pdf;base64,JVBERi0xLjQK"
    client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Summarise."},
                    {"type": "file", "file": {"file_data": pdf, "filename": "a.pdf"}},
                ],
            },
        ],
        temperature=0.3,
        top_p=0.9,
        max_tokens=50,
        stop="END",
        seed=7,
        user="user-42",
        reasoning_effort="low",
    )
    sent = upstream.last_request.json
    assert sent["model"] == "gpt-4o-mini" and sent["stream"] is True
    assert (sent["temperature"], sent["top_p"], sent["max_completion_tokens"]) == (0.3, 0.9, 50)
    assert sent["stop"] == ["END"] and sent["seed"] == 7 and sent["user"] == "user-42"
    assert sent["reasoning_effort"] == "low"
    assert sent["messages"][1]["content"][1] == {
        "type": "file",
        "file": {"file_data": pdf, "filename": "a.pdf"},
    }


def refusal_stream(text: str) -> Reply:
    """An OpenAI stream whose answer is a refusal (``delta.refusal``), not content."""

    def frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {
            "id": "chatcmpl-refused",
            "object": "chat.completion.chunk",
            "created": fake_openai.CREATED,
            "model": fake_openai.MODEL,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    return Reply.sse(
        [
            frame({"role": "assistant", "content": None, "refusal": ""}),
            frame({"refusal": text}),
            frame({}, "stop"),
            fake_openai.DONE,
        ]
    )


def test_answers_go_back_into_the_history_as_the_sdk_returns_them(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    """``messages.append(resp.choices[0].message)``: a tool call, and a refusal (its text)."""
    model = chat_endpoint(service, upstream)
    tools: list[ChatCompletionFunctionToolParam] = [
        {"type": "function", "function": {"name": "get_current_weather", "parameters": {"type": "object"}}}
    ]
    upstream.enqueue(
        Reply.sse(fixture_frames("openai_tool_call")), refusal_stream("I cannot help with that.")
    )
    first = client.chat.completions.create(model=model, messages=HI, tools=tools)
    (call,) = first.choices[0].message.tool_calls or []
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    history: list[Any] = [
        *HI,
        first.choices[0].message,
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    refused = client.chat.completions.create(model=model, messages=history, tools=tools)
    assert refused.choices[0].message.refusal == "I cannot help with that."
    sent = upstream.last_request.json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_abc123",
                "type": "function",
                "function": {"name": "get_current_weather", "arguments": call.function.arguments},
            }
        ],
    }
    upstream.enqueue(Reply.sse(fake_openai.stream(["Fine."])))
    history += [refused.choices[0].message, {"role": "user", "content": "Why not?"}]
    client.chat.completions.create(model=model, messages=history, tools=tools)
    assert upstream.last_request.json["messages"][3] == {
        "role": "assistant",
        "content": "I cannot help with that.",
    }


def test_legacy_completions_take_the_defaults_clients_send(
    service: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    """What LangChain's ``OpenAI`` class sends by default: zero penalties, ``n`` 1, null
    ``logprobs`` and ``seed``; a real ``seed`` reaches the provider."""
    model = completion_endpoint(service, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])), Reply.sse(fake_openai.stream(["ok"])))
    body = {
        "model": model,
        "prompt": ["Say ok"],
        "temperature": 0.7,
        "top_p": 1,
        "frequency_penalty": 0,
        "presence_penalty": 0,
        "n": 1,
        "seed": None,
        "logprobs": None,
        "logit_bias": {},
        "max_tokens": 256,
        "echo": False,
        "best_of": 1,
    }
    answer = httpx.post(f"{service.url}/v1/completions", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["text"] == "ok"
    client.completions.create(model=model, prompt="x", seed=11)
    assert upstream.last_request.json["seed"] == 11
    for field, value in (("logprobs", 1), ("best_of", 2), ("suffix", "!"), ("logit_bias", {"1": 1})):
        refused = httpx.post(
            f"{service.url}/v1/completions", json={"model": model, "prompt": "x", field: value}
        )
        assert refused.status_code == 400, field
        assert refused.json()["error"]["param"] == field
        assert refused.json()["error"]["message"].startswith(f"[{field}] cannot be honoured")
