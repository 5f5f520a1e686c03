"""A chat stream put together into one answer (inference_service.inference.aggregate)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Coroutine
from typing import Any

import msgspec
import pytest

from inference_service.errors import UpstreamError
from inference_service.inference.aggregate import ChatAggregator, aggregate_chat
from inference_service.model.chat import (
    AssistantReply,
    ChatCompletion,
    ChatCompletionChunk,
    ChunkChoice,
    CompletionChoice,
    Delta,
    FunctionDelta,
    ReplyFunction,
    ReplyToolCall,
    ToolCallDelta,
    Usage,
)
from inference_service.providers.openai.response import parse_openai_event
from inference_service.sse_decoder import SSEDecoder
from tests.fakes.sse import fixture

OBJECT = "chat.completion.chunk"


def chunk(
    delta: Delta | None = None,
    finish_reason: str | None = None,
    *,
    index: int = 0,
    id: str = "c-1",
    model: str = "m-1",
    usage: Usage | None = None,
) -> ChatCompletionChunk:
    choices = [] if delta is None else [ChunkChoice(delta=delta, finish_reason=finish_reason, index=index)]
    return ChatCompletionChunk(id=id, choices=choices, model=model, object=OBJECT, usage=usage)


def aggregate(*chunks: ChatCompletionChunk) -> ChatCompletion:
    aggregator = ChatAggregator()
    for c in chunks:
        aggregator.feed(c)
    return aggregator.result()


def call(index: int, id: str | None = None, name: str | None = None, arguments: str | None = None) -> Delta:
    function = FunctionDelta(arguments=arguments, name=name)
    return Delta(
        tool_calls=[ToolCallDelta(index=index, id=id, function=function, type="function" if id else None)]
    )


def test_content_is_concatenated() -> None:
    result = aggregate(
        chunk(Delta(role="assistant", content="")),
        chunk(Delta(content="Hello")),
        chunk(Delta(content=", world")),
        chunk(Delta(), "stop"),
    )
    assert result == ChatCompletion(
        id="c-1",
        choices=[
            CompletionChoice(
                finish_reason="stop",
                index=0,
                message=AssistantReply(content="Hello, world", role="assistant"),
            )
        ],
        model="m-1",
        object="chat.completion",
    )


def test_refusal_is_concatenated_and_content_kept_apart() -> None:
    result = aggregate(chunk(Delta(refusal="I can't")), chunk(Delta(refusal=" help with that.")))
    assert result.choices[0].message == AssistantReply(
        content="", refusal="I can't help with that.", role="assistant"
    )


def test_tool_calls_are_merged_by_index() -> None:
    result = aggregate(
        chunk(Delta(role="assistant")),
        chunk(call(0, "call_a", "get_weather", "")),
        chunk(call(0, arguments='{"city":')),
        chunk(call(1, "call_b", "get_time", "")),
        chunk(call(0, arguments='"Paris"}')),
        chunk(call(1, arguments="{}")),
        chunk(Delta(), "tool_calls"),
    )
    assert result.choices[0] == CompletionChoice(
        finish_reason="tool_calls",
        index=0,
        message=AssistantReply(
            role="assistant",
            tool_calls=[
                ReplyToolCall(
                    id="call_a",
                    type="function",
                    function=ReplyFunction(name="get_weather", arguments='{"city":"Paris"}'),
                ),
                ReplyToolCall(
                    id="call_b", type="function", function=ReplyFunction(name="get_time", arguments="{}")
                ),
            ],
        ),
    )
    assert result.choices[0].message.content is None  # a tool-only answer has no content


def test_tool_calls_are_ordered_by_index_not_arrival() -> None:
    result = aggregate(chunk(call(1, "b", "second", "{}")), chunk(call(0, "a", "first", "{}")))
    calls = result.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name) for c in calls] == [("a", "first"), ("b", "second")]


def test_content_and_tool_calls_together() -> None:
    result = aggregate(chunk(Delta(content="Let me check.")), chunk(call(0, "a", "f", "{}")))
    message = result.choices[0].message
    assert message.content == "Let me check."
    assert message.tool_calls == [
        ReplyToolCall(id="a", type="function", function=ReplyFunction(name="f", arguments="{}"))
    ]


def test_the_last_finish_reason_wins_and_usage_is_kept() -> None:
    usage = Usage(completion_tokens=3, prompt_tokens=4, total_tokens=7)
    result = aggregate(
        chunk(Delta(content="a"), "length"),
        chunk(Delta(content="b")),  # no finish reason: the earlier one stays
        chunk(Delta(), "stop"),
        chunk(usage=usage),
    )
    assert result.choices[0].finish_reason == "stop"
    assert result.usage == usage
    assert (
        aggregate(chunk(Delta(content="a"), "length"), chunk(Delta(content="b"))).choices[0].finish_reason
        == "length"
    )


def test_id_and_model_come_from_the_first_chunk() -> None:
    result = aggregate(
        chunk(Delta(content="a"), id="first", model="m-a"),
        chunk(Delta(content="b"), id="second", model="m-b"),
    )
    assert (result.id, result.model) == ("first", "m-a")


def test_several_choices_are_kept_apart_in_index_order() -> None:
    result = aggregate(
        chunk(Delta(content="one"), index=1),
        chunk(Delta(content="zero"), index=0),
        chunk(Delta(), "stop", index=1),
    )
    assert [(c.index, c.message.content, c.finish_reason) for c in result.choices] == [
        (0, "zero", None),
        (1, "one", "stop"),
    ]


def test_an_empty_stream() -> None:
    result = ChatAggregator().result()
    assert result == ChatCompletion(
        id="",
        choices=[CompletionChoice(index=0, message=AssistantReply(content="", role="assistant"))],
        model="",
        object="chat.completion",
    )
    assert msgspec.json.encode(result) == (
        b'{"id":"","choices":[{"message":{"content":"","role":"assistant"},"index":0}],'
        b'"model":"","object":"chat.completion"}'
    )


def test_the_recorded_tool_call_transcript() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(fixture("openai_tool_call"))
    decoder.close()
    chunks = [c for c in (parse_openai_event(e, "ep") for e in events) if c is not None]
    result = aggregate(*chunks)
    assert msgspec.json.encode(result) == (
        # Elasticsearch 9.6's field order: message before finish_reason and index, a tool call's
        # function before its type, arguments before name
        b'{"id":"chatcmpl-123","choices":[{"message":{"role":"assistant",'
        b'"tool_calls":[{"id":"call_abc123","function":{"arguments":"{\\"location\\":\\"Boston, MA\\"}",'
        b'"name":"get_current_weather"},"type":"function"}]},"finish_reason":"tool_calls","index":0}],'
        b'"model":"gpt-4o-mini","object":"chat.completion",'
        b'"usage":{"completion_tokens":17,"prompt_tokens":82,"total_tokens":99,'
        b'"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}'
    )


# --- aggregate_chat ------------------------------------------------------------------------


class Recording(AsyncGenerator[list[ChatCompletionChunk], None]):
    """Wraps an async generator and counts the calls to :meth:`aclose`."""

    def __init__(self, inner: AsyncGenerator[list[ChatCompletionChunk], None]) -> None:
        self.inner = inner
        self.closed = 0

    def __anext__(self) -> Coroutine[Any, Any, list[ChatCompletionChunk]]:
        return self.inner.__anext__()

    def asend(self, value: None, /) -> Coroutine[Any, Any, list[ChatCompletionChunk]]:
        return self.inner.asend(value)

    def athrow(
        self, typ: Any, val: Any = None, tb: Any = None, /
    ) -> Coroutine[Any, Any, list[ChatCompletionChunk]]:
        return self.inner.athrow(typ, val, tb)

    async def aclose(self) -> None:
        self.closed += 1
        await self.inner.aclose()


async def batches(
    items: list[list[ChatCompletionChunk]], error: Exception | None = None, ended: list[str] | None = None
) -> AsyncGenerator[list[ChatCompletionChunk], None]:
    try:
        for batch in items:
            yield batch
        if error is not None:
            raise error
    finally:
        if ended is not None:
            ended.append("finally")


def test_aggregate_chat_consumes_every_batch_and_closes() -> None:
    stream = Recording(
        batches([[chunk(Delta(content="a")), chunk(Delta(content="b"))], [chunk(Delta(), "stop")]])
    )
    result = asyncio.run(aggregate_chat(stream))
    assert (result.choices[0].message.content, result.choices[0].finish_reason) == ("ab", "stop")
    assert stream.closed == 1


def test_aggregate_chat_closes_the_stream_when_it_raises() -> None:
    stream_error = UpstreamError("overloaded", status=502)
    ended: list[str] = []
    stream = Recording(batches([[chunk(Delta(content="a"))]], stream_error, ended))
    with pytest.raises(UpstreamError) as caught:
        asyncio.run(aggregate_chat(stream))
    assert caught.value is stream_error
    assert stream.closed == 1
    assert ended == ["finally"]


def test_aggregate_chat_closes_the_stream_when_cancelled() -> None:
    async def scenario() -> tuple[int, list[str]]:
        gate = asyncio.Event()
        ended: list[str] = []

        async def slow() -> AsyncGenerator[list[ChatCompletionChunk], None]:
            try:
                yield [chunk(Delta(content="a"))]
                await gate.wait()
                yield [chunk(Delta(content="never"))]
            finally:
                ended.append("finally")

        stream = Recording(slow())
        task = asyncio.create_task(aggregate_chat(stream))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return stream.closed, ended

    assert asyncio.run(scenario()) == (1, ["finally"])
