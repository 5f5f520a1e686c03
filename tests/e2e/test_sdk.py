"""The SDK against the real service (hypercorn on 127.0.0.1) and wire-faithful fake providers:
every method sync and async, streaming and not, tools, the error classes the service produces,
and a stream left early reaching the provider as a disconnect.

One SQLite service for the module: the SDK sees only HTTP, which does not change with the
database (the SQL backends are covered by the modules that exercise the store).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from inference_service.client import (
    AsyncInferenceClient,
    BadRequestError,
    ChatMessage,
    InferenceClient,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    StreamChunk,
)
from tests.fakes import cohere
from tests.fakes import custom as fake_custom
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider
from tests.fakes.vectors import vectors_for
from tests.support.service import RunningService, migrated_service

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is gradient descent?"},
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALL = fake_openai.ToolCall("call_1", "get_weather", ['{"city":', '"Paris"}'])


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("sdk")) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(upstream: FakeProvider) -> None:
    upstream.clear()


@pytest.fixture(scope="module")
def client(svc: RunningService, upstream: FakeProvider) -> Iterator[InferenceClient]:
    """A client, and one endpoint per task type on the fake providers (created with the SDK)."""
    with InferenceClient(svc.url, timeout=20, max_retries=0) as client:
        chat = {"api_key": "sk-chat", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
        client.endpoints.create(
            "sdk-chat", task_type="chat_completion", service="openai", service_settings=chat
        )
        client.endpoints.create("sdk-writer", task_type="completion", service="openai", service_settings=chat)
        embed = {"api_key": "sk-e", "model_id": fake_embeddings.MODEL, "url": upstream.url + "/v1/embeddings"}
        client.endpoints.create(
            "sdk-embed", task_type="text_embedding", service="openai", service_settings=embed
        )
        sparse = {
            "url": upstream.url + "/sparse",
            "secret_parameters": {"api_key": "sk-s"},
            "headers": {"X-Api-Key": "${api_key}"},
            "request": '{"input": {"texts": ${input}}}',
            "response": {
                "json_parser": {
                    "token_path": "$.result.sparse_embeddings[*].embedding[*].tokenId",
                    "weight_path": "$.result.sparse_embeddings[*].embedding[*].weight",
                }
            },
        }
        client.endpoints.create(
            "sdk-sparse", task_type="sparse_embedding", service="custom", service_settings=sparse
        )
        rerank = {"api_key": "co-key", "model_id": cohere.RERANK_MODEL, "url": upstream.url + "/v2/rerank"}
        client.endpoints.create("sdk-rerank", task_type="rerank", service="cohere", service_settings=rerank)
        yield client


# --- chat ----------------------------------------------------------------------------------


def test_chat_completion_answers_one_typed_object(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(["Gradient", " descent", " follows the slope."]))
    response = client.chat_completion(
        model="sdk-chat", messages=MESSAGES, temperature=0.3, max_tokens=256, top_p=0.9, stop=["\n\n"]
    )
    assert response.content == "Gradient descent follows the slope."
    assert response.usage is not None and response.usage.total_tokens == 21
    assert (response.finish_reason, response.tool_calls) == ("stop", [])
    assert response.id == fake_openai.CHUNK_ID and response.object == "chat.completion"
    assert response.choices[0].message.role == "assistant"
    sent = upstream.last_request.json
    assert sent["messages"] == MESSAGES
    assert (sent["temperature"], sent["top_p"], sent["stop"]) == (0.3, 0.9, ["\n\n"])
    assert sent["max_completion_tokens"] == 256


def test_chat_completion_streams_chunks(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(["Hel", "lo"], usage=fake_openai.usage(5, 2)))
    with client.chat_completion(
        inference_id="sdk-chat", messages=MESSAGES, stream=True, stop="END"
    ) as stream:
        chunks = list(stream)
    assert all(isinstance(c, StreamChunk) for c in chunks)
    assert "".join(c.content for c in chunks) == "Hello"
    assert chunks[0].role == "assistant" and chunks[0].id == fake_openai.CHUNK_ID
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].content == "" and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 7
    assert upstream.last_request.json["stop"] == ["END"]


def test_chat_tools_round_trip(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(tool_calls=[CALL]))
    asked = [{"role": "user", "content": "Weather in Paris?"}]
    response = client.chat_completion(
        model="sdk-chat", messages=asked, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    assert response.finish_reason == "tool_calls" and response.content is None
    (call,) = response.tool_calls
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert upstream.last_request.json["tools"][0]["function"]["name"] == "get_weather"
    # the answer's message goes back as it is, next to a ChatMessage with the tool's result
    upstream.enqueue(fake_openai.stream_reply(["Sunny."]))
    followup: list[dict[str, Any] | ChatMessage] = [
        *asked,
        response.choices[0].message,
        ChatMessage(role="tool", content='{"sky": "clear"}', tool_call_id="call_1"),
    ]
    with client.chat_completion(
        model="sdk-chat", messages=followup, tools=[WEATHER_TOOL], stream=True
    ) as stream:
        assert "".join(c.content for c in stream) == "Sunny."
    sent = upstream.last_request.json["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert sent[2] == {"role": "tool", "content": '{"sky": "clear"}', "tool_call_id": "call_1"}


def test_streamed_tool_call_deltas(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(tool_calls=[CALL]))
    with client.chat_completion(
        model="sdk-chat", messages=MESSAGES, tools=[WEATHER_TOOL], stream=True
    ) as stream:
        deltas = [d for chunk in stream for d in chunk.tool_calls]
    assert deltas[0].id == "call_1" and deltas[0].function is not None
    assert deltas[0].function.name == "get_weather"
    arguments = "".join(d.function.arguments or "" for d in deltas if d.function is not None)
    assert json.loads(arguments) == {"city": "Paris"}


# --- the other task types ------------------------------------------------------------------


def test_completion(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(["1. ", "fewer bugs"]))
    answer = client.completion(model="sdk-writer", prompt="Three benefits of testing:")
    assert (answer.content, answer.model) == ("1. fewer bugs", "sdk-writer")
    assert upstream.last_request.json["messages"] == [
        {"role": "user", "content": "Three benefits of testing:"}
    ]
    upstream.enqueue(fake_openai.stream_reply(["a", "b"]))
    with client.completion(model="sdk-writer", prompt="x", stream=True) as stream:
        assert [c.content for c in stream] == ["a", "b"]


def test_completion_settings_the_service_does_not_know_are_refused(client: InferenceClient) -> None:
    """max_tokens goes as a task setting; OpenAI's completion endpoints have none: a 400, not a drop."""
    with pytest.raises(BadRequestError) as refused:
        client.completion(model="sdk-writer", prompt="x", max_tokens=150)
    assert "max_tokens" in refused.value.reason


def test_embedding(client: InferenceClient, upstream: FakeProvider) -> None:
    vectors = vectors_for(["first text", "second text"])
    upstream.enqueue(fake_embeddings.reply(vectors))
    response = client.embedding(model="sdk-embed", input=["first text", "second text"])
    assert response.embeddings == vectors
    assert [d.index for d in response.data] == [0, 1] and response.model == "sdk-embed"
    upstream.enqueue(fake_embeddings.reply(vectors[:1]))
    assert client.embedding(model="sdk-embed", input="one").embeddings == vectors[:1]


def test_sparse_embedding(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_custom.sparse_reply([[(7, 0.5)], [(8, 0.25), (9, 0.125)]]))
    response = client.sparse_embedding(model="sdk-sparse", input=["a", "b"])
    assert response.embeddings == [{"7": 0.5}, {"8": 0.25, "9": 0.125}]
    assert upstream.last_request.json == {"input": {"texts": ["a", "b"]}}


def test_rerank(client: InferenceClient, upstream: FakeProvider) -> None:
    documents = ["rye bread", "a bicycle", "sourdough"]
    upstream.enqueue(cohere.rerank_reply([(2, 0.9)], documents))
    ranked = client.rerank(
        model="sdk-rerank", query="bread", documents=documents, top_n=1, return_documents=True
    )
    assert [(r.index, r.relevance_score, r.document) for r in ranked.results] == [(2, 0.9, "sourdough")]
    assert upstream.last_request.json["top_n"] == 1
    upstream.enqueue(cohere.rerank_reply([(0, 0.8), (2, 0.7)]))
    plain = client.rerank(model="sdk-rerank", query="bread", documents=documents)
    assert [(r.index, r.document) for r in plain.results] == [(0, None), (2, None)]


# --- endpoints -----------------------------------------------------------------------------


def test_endpoints_crud(client: InferenceClient) -> None:
    settings = {"api_key": "sk-secret-crud", "model_id": "gpt-4o-mini"}
    created = client.endpoints.create(
        "sdk-crud",
        task_type="completion",
        service="openai",
        service_settings=settings,
        task_settings={"user": "a"},
    )
    assert (created.inference_id, created.task_type, created.service) == ("sdk-crud", "completion", "openai")
    assert created.service_settings["model_id"] == "gpt-4o-mini" and created.task_settings == {"user": "a"}
    assert "api_key" not in created.service_settings and "sk-secret-crud" not in repr(created)
    assert client.endpoints.get("sdk-crud") == created
    assert "sdk-crud" in [e.inference_id for e in client.endpoints.list()]
    completions = client.endpoints.list(task_type="completion")
    assert {"sdk-crud", "sdk-writer"} <= {e.inference_id for e in completions}
    assert {e.task_type for e in completions} == {"completion"}
    updated = client.endpoints.update("sdk-crud", task_settings={"user": "b"})
    assert updated.task_settings == {"user": "b"} and client.endpoints.get("sdk-crud").task_settings == {
        "user": "b"
    }
    with pytest.raises(BadRequestError) as exists:
        client.endpoints.create(
            "sdk-crud", task_type="completion", service="openai", service_settings=settings
        )
    assert exists.value.type == "resource_already_exists_exception" and exists.value.status == 400
    client.endpoints.delete("sdk-crud")
    with pytest.raises(NotFoundError) as gone:
        client.endpoints.get("sdk-crud")
    assert gone.value.reason == "Inference endpoint not found [sdk-crud]"
    with pytest.raises(NotFoundError):
        client.endpoints.delete("sdk-crud")
    with pytest.raises(BadRequestError) as invalid:
        client.endpoints.create("sdk-bad", task_type="completion", service="openai", service_settings={})
    assert invalid.value.type == "validation_exception" and "[model_id]" in invalid.value.reason


# --- errors --------------------------------------------------------------------------------


def test_bad_request_names_the_field(client: InferenceClient) -> None:
    with pytest.raises(BadRequestError) as choice:
        client.chat_completion(model="sdk-chat", messages=MESSAGES, tool_choice="sometimes")
    assert choice.value.type == "action_request_validation_exception"
    assert choice.value.param == "$.tool_choice" and "[sometimes]" in choice.value.reason
    with pytest.raises(BadRequestError) as hot:
        client.chat_completion(model="sdk-chat", messages=MESSAGES, stream=True, temperature=5)
    assert hot.value.type == "x_content_parse_exception" and "temperature" in hot.value.reason
    with pytest.raises(BadRequestError) as unknown:
        client.chat_completion(model="sdk-chat", messages=MESSAGES, logit_bias={"1": 1})
    assert "logit_bias" in unknown.value.reason


def test_not_found_on_every_path(client: InferenceClient) -> None:
    for call in (
        lambda: client.chat_completion(model="nope", messages=MESSAGES),
        lambda: client.chat_completion(model="nope", messages=MESSAGES, stream=True),
        lambda: client.completion(model="nope", prompt="x", stream=True),
        lambda: client.embedding(model="nope", input="x"),
        lambda: client.rerank(model="nope", query="q", documents=["d"]),
    ):
        with pytest.raises(NotFoundError) as missing:
            call()
        assert (missing.value.status, missing.value.type) == (404, "resource_not_found_exception")
        assert missing.value.reason == "Inference endpoint not found [nope]"


def test_a_slow_provider_is_the_services_408(client: InferenceClient, upstream: FakeProvider) -> None:
    upstream.enqueue(fake_openai.stream_reply(["late"], headers_delay=5))
    with pytest.raises(RequestTimeoutError) as late:
        client.chat_completion(model="sdk-chat", messages=MESSAGES, timeout=0.5)
    assert late.value.status == 408 and "Request timed out after [" in late.value.reason
    upstream.enqueue(fake_openai.stream_reply(["late"], headers_delay=5))
    with pytest.raises(RequestTimeoutError):
        client.completion(model="sdk-writer", prompt="x", stream=True, timeout=0.5)
    assert upstream.wait_for_disconnect(timeout=2).aborted


def test_provider_failures_keep_their_class(client: InferenceClient, upstream: FakeProvider) -> None:
    # endpoints that do not retry: the errors' classes, not the service's retries, are the point
    chat = {"api_key": "sk-chat", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    client.endpoints.create(
        "sdk-chat-once",
        task_type="chat_completion",
        service="openai",
        service_settings={**chat, "upstream_max_retries": 0},
    )
    embed = {"api_key": "sk-e", "model_id": fake_embeddings.MODEL, "url": upstream.url + "/v1/embeddings"}
    client.endpoints.create(
        "sdk-embed-once",
        task_type="text_embedding",
        service="openai",
        service_settings={**embed, "upstream_max_retries": 0},
    )
    for stream in (True, False):
        upstream.enqueue(fake_openai.rate_limit_exceeded(retry_after=7))
        with pytest.raises(RateLimitError) as limited:
            client.chat_completion(model="sdk-chat-once", messages=MESSAGES, stream=stream)
        assert limited.value.status == 429 and limited.value.retry_after == 7, stream
    upstream.enqueue(fake_openai.server_error())
    with pytest.raises(InternalServerError) as failed:
        client.embedding(model="sdk-embed-once", input="x")
    assert failed.value.status >= 500


def test_an_error_after_the_first_chunk_is_raised_by_the_iterator(
    client: InferenceClient, upstream: FakeProvider
) -> None:
    broken = fake_openai.error_body("The server had an error", "server_error")
    upstream.enqueue(fake_openai.stream_reply(["partial"], error=broken))
    seen: list[str] = []
    with (
        pytest.raises(InternalServerError) as failed,
        client.chat_completion(model="sdk-chat", messages=MESSAGES, stream=True) as stream,
    ):
        seen.extend(chunk.content for chunk in stream)
    assert "partial" in seen
    assert "The server had an error" in failed.value.reason


def test_leaving_a_stream_early_disconnects_the_provider(
    client: InferenceClient, upstream: FakeProvider
) -> None:
    upstream.enqueue(fake_openai.stream_reply([f"w{i} " for i in range(50)], gap=0.1))
    with client.chat_completion(model="sdk-chat", messages=MESSAGES, stream=True) as stream:
        for chunk in stream:
            if chunk.content:
                break
    request = upstream.wait_for_disconnect(timeout=2)
    assert request.aborted
    # the client's connection pool is fine afterwards
    upstream.enqueue(fake_openai.stream_reply(["ok"]))
    assert client.chat_completion(model="sdk-chat", messages=MESSAGES).content == "ok"


# --- async ---------------------------------------------------------------------------------


def test_async_client_does_the_same(
    svc: RunningService, client: InferenceClient, upstream: FakeProvider
) -> None:
    async def main() -> None:
        async with AsyncInferenceClient(svc.url, timeout=20, max_retries=0) as aclient:
            upstream.enqueue(fake_openai.stream_reply(["Hi", "!"]))
            answer = await aclient.chat_completion(model="sdk-chat", messages=MESSAGES, max_tokens=9)
            assert answer.content == "Hi!" and upstream.last_request.json["max_completion_tokens"] == 9

            upstream.enqueue(fake_openai.stream_reply(["a", "b"]))
            stream = await aclient.chat_completion(model="sdk-chat", messages=MESSAGES, stream=True)
            async with stream:
                assert "".join([c.content async for c in stream]) == "ab"

            upstream.enqueue(fake_openai.stream_reply(tool_calls=[CALL]))
            tools = await aclient.chat_completion(model="sdk-chat", messages=MESSAGES, tools=[WEATHER_TOOL])
            assert tools.tool_calls[0].function.name == "get_weather"

            upstream.enqueue(fake_openai.stream_reply(["done"]))
            assert (await aclient.completion(model="sdk-writer", prompt="p")).content == "done"
            upstream.enqueue(fake_openai.stream_reply(["x", "y"]))
            async with await aclient.completion(model="sdk-writer", prompt="p", stream=True) as text:
                assert [c.content async for c in text] == ["x", "y"]

            upstream.enqueue(fake_embeddings.reply([[0.5, 0.25]]))
            assert (await aclient.embedding(model="sdk-embed", input="x")).embeddings == [[0.5, 0.25]]
            upstream.enqueue(fake_custom.sparse_reply([[(3, 0.5)]]))
            assert (await aclient.sparse_embedding(model="sdk-sparse", input="x")).embeddings == [{"3": 0.5}]
            upstream.enqueue(cohere.rerank_reply([(1, 0.5)]))
            ranked = await aclient.rerank(model="sdk-rerank", query="q", documents=["a", "b"], top_n=1)
            assert [r.index for r in ranked.results] == [1]

            settings = {"api_key": "sk-a", "model_id": "m"}
            made = await aclient.endpoints.create(
                "sdk-async", task_type="completion", service="openai", service_settings=settings
            )
            assert made == await aclient.endpoints.get("sdk-async")
            assert "sdk-async" in [e.inference_id for e in await aclient.endpoints.list("completion")]
            changed = await aclient.endpoints.update("sdk-async", task_settings={"user": "u"})
            assert changed.task_settings == {"user": "u"}
            await aclient.endpoints.delete("sdk-async")
            with pytest.raises(NotFoundError):
                await aclient.endpoints.get("sdk-async")

            broken = fake_openai.error_body("upstream broke", "server_error")
            upstream.enqueue(fake_openai.stream_reply(["p"], error=broken))
            failing = await aclient.chat_completion(model="sdk-chat", messages=MESSAGES, stream=True)
            with pytest.raises(InternalServerError):
                async with failing:
                    async for _ in failing:
                        pass

            upstream.enqueue(fake_openai.stream_reply([f"w{i}" for i in range(50)], gap=0.1))
            early = await aclient.chat_completion(model="sdk-chat", messages=MESSAGES, stream=True)
            async with early:
                async for chunk in early:
                    if chunk.content:
                        break
            assert (await upstream.wait_for_disconnect_async(timeout=2)).aborted

    asyncio.run(main())
