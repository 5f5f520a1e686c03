"""``/v1`` through the real ``openai.AsyncOpenAI`` client (the sync client's side is in
test_openai_chat.py and test_openai_face.py): non-streaming chat, a stream with its usage
chunk, a tool-call round trip, embeddings as floats and base64, ``models.list()`` and the
typed exceptions for 400, 401, 404 and 429."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import openai
import pytest
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)

from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.fakes.sse import fixture_frames
from tests.support.service import RunningService, migrated_service

pytestmark = pytest.mark.usefixtures("fresh_upstream")
T = TypeVar("T")
_ids = itertools.count()
HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]
WEATHER: list[ChatCompletionFunctionToolParam] = [
    {"type": "function", "function": {"name": "get_current_weather", "parameters": {"type": "object"}}}
]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("openai-async")) as running:
        yield running


def endpoint(svc: RunningService, upstream: FakeProvider, task_type: str, path: str, **extra: Any) -> str:
    inference_id = f"async-{task_type.replace('_', '-')}-{next(_ids)}"
    settings = {"api_key": "sk-async", "model_id": "m", "url": upstream.url + path, **extra}
    body = {"service": "openai", "service_settings": settings}
    created = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def chat(svc: RunningService, upstream: FakeProvider) -> str:
    return endpoint(svc, upstream, "chat_completion", "/v1/chat/completions", upstream_max_retries=0)


def run(svc: RunningService, use: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
    async def main() -> T:
        async with openai.AsyncOpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk:
            return await use(sdk)

    return asyncio.run(main())


def test_non_streaming_chat(svc: RunningService, upstream: FakeProvider) -> None:
    model = chat(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["Hello", " there"])))

    async def use(sdk: openai.AsyncOpenAI) -> Any:
        return await sdk.chat.completions.create(model=model, messages=HI, max_completion_tokens=9)

    answer = run(svc, use)
    assert answer.object == "chat.completion" and answer.created > 1_700_000_000
    assert answer.choices[0].message.content == "Hello there"
    assert answer.choices[0].message.role == "assistant" and answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.total_tokens == 21
    assert upstream.last_request.json["max_completion_tokens"] == 9


def test_a_stream_with_its_usage_chunk(svc: RunningService, upstream: FakeProvider) -> None:
    model = chat(svc, upstream)
    upstream.enqueue(Reply.sse(fake_openai.stream(["as", "ync"])))

    async def use(sdk: openai.AsyncOpenAI) -> list[Any]:
        stream = await sdk.chat.completions.create(
            model=model, messages=HI, stream=True, stream_options={"include_usage": True}
        )
        return [chunk async for chunk in stream]

    chunks = run(svc, use)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "async"
    assert [c.usage is not None for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 21


def test_a_tool_call_round_trip(svc: RunningService, upstream: FakeProvider) -> None:
    model = chat(svc, upstream)
    upstream.enqueue(Reply.sse(fixture_frames("openai_tool_call")), Reply.sse(fake_openai.stream(["Sunny."])))

    async def use(sdk: openai.AsyncOpenAI) -> tuple[ChatCompletionMessageFunctionToolCall, str | None]:
        first = await sdk.chat.completions.create(model=model, messages=HI, tools=WEATHER, tool_choice="auto")
        assert first.choices[0].finish_reason == "tool_calls"
        (call,) = first.choices[0].message.tool_calls or []
        assert isinstance(call, ChatCompletionMessageFunctionToolCall)
        answer = await sdk.chat.completions.create(
            model=model,
            tools=WEATHER,
            messages=[
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
                {"role": "tool", "tool_call_id": call.id, "content": '{"sky": "clear"}'},
            ],
        )
        return call, answer.choices[0].message.content

    call, content = run(svc, use)
    assert (call.id, call.function.name) == ("call_abc123", "get_current_weather")
    assert json.loads(call.function.arguments) == {"location": "Boston, MA"}
    assert content == "Sunny."
    sent = upstream.last_request.json["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_abc123"
    assert sent[2] == {"role": "tool", "content": '{"sky": "clear"}', "tool_call_id": "call_abc123"}


def test_embeddings_as_floats_and_base64(svc: RunningService, upstream: FakeProvider) -> None:
    model = endpoint(svc, upstream, "text_embedding", "/v1/embeddings")
    vectors = [[0.5, -0.25, 0.125], [1.5, 2.25, -3.0]]
    upstream.enqueue(fake_embeddings.reply(vectors), fake_embeddings.reply(vectors))

    async def use(sdk: openai.AsyncOpenAI) -> tuple[Any, Any]:
        floats = await sdk.embeddings.create(model=model, input=["a", "b"], encoding_format="float")
        packed = await sdk.embeddings.create(model=model, input=["a", "b"])  # base64, the SDK's default
        return floats, packed

    floats, packed = run(svc, use)
    assert [item.embedding for item in floats.data] == vectors
    assert [item.embedding for item in packed.data] == vectors  # exact in float32
    assert floats.model == model and floats.usage.prompt_tokens == 8


def test_models_list(svc: RunningService, upstream: FakeProvider) -> None:
    model = chat(svc, upstream)

    async def use(sdk: openai.AsyncOpenAI) -> tuple[dict[str, Any], str]:
        listed = {m.id: m async for m in sdk.models.list()}
        return listed, (await sdk.models.retrieve(model)).owned_by

    listed, owner = run(svc, use)
    assert listed[model].owned_by == "openai" == owner and listed[model].created > 1_700_000_000


def test_the_typed_exceptions(svc: RunningService, upstream: FakeProvider) -> None:
    model = chat(svc, upstream)
    limited = fake_openai.error_body("Rate limit reached", "requests", "rate_limit_exceeded")
    upstream.enqueue(
        Reply.json(
            401, fake_openai.error_body("Incorrect API key", "invalid_request_error", "invalid_api_key")
        ),
        Reply.json(429, limited, {"content-type": "application/json", "retry-after": "3"}),
    )

    async def use(sdk: openai.AsyncOpenAI) -> list[openai.APIStatusError]:
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: sdk.chat.completions.create(model=model, messages=HI, n=2),
            lambda: sdk.chat.completions.create(model=model, messages=HI),
            lambda: sdk.chat.completions.create(model="no-such-endpoint", messages=HI),
            lambda: sdk.chat.completions.create(model=model, messages=HI, stream=True),
        ]
        caught: list[openai.APIStatusError] = []
        for call in calls:
            try:
                await call()
            except openai.APIStatusError as exc:
                caught.append(exc)
        return caught

    bad, unauthenticated, missing, throttled = run(svc, use)
    assert isinstance(bad, openai.BadRequestError) and bad.param == "n"
    assert (
        isinstance(unauthenticated, openai.AuthenticationError) and unauthenticated.code == "invalid_api_key"
    )
    assert isinstance(missing, openai.NotFoundError) and missing.code == "model_not_found"
    assert isinstance(throttled, openai.RateLimitError) and throttled.code == "rate_limit_exceeded"
    assert throttled.response.headers["retry-after"] == "3"
