"""Anthropic stream events and error bodies -> unified chunks and upstream errors
(inference_service.providers.anthropic.response), over the recorded transcripts."""

from __future__ import annotations

import msgspec
import pytest

from inference_service.errors import MalformedUpstreamError, UpstreamError
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionDelta,
    ToolCallDelta,
    Usage,
)
from inference_service.providers.anthropic.response import (
    TERMINATOR,
    AnthropicStreamTranslator,
    parse_anthropic_error,
)
from inference_service.sse_decoder import ServerSentEvent, SSEDecoder
from tests.fakes import anthropic
from tests.fakes.server import Reply
from tests.fakes.sse import fixture

ID = "my-claude"
URL = "https://api.anthropic.com/v1/messages"
OBJECT = "chat.completion.chunk"
TEXT_ID = "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"
TOOL_ID = "msg_014p7gG3wDgGV9EUtLvnow3U"
MODEL = "claude-sonnet-4-5-20250929"


def decode(raw: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    out = decoder.feed(raw)
    decoder.close()
    return out


def events(name: str) -> list[ServerSentEvent]:
    return decode(fixture(name))


def translate(stream: list[ServerSentEvent]) -> list[ChatCompletionChunk]:
    """Feed every event to one translator; keep what it returns (None means skipped)."""
    translator = AnthropicStreamTranslator(ID)
    return [c for c in (translator.feed(event) for event in stream) if c is not None]


def chunk(message_id: str, delta: Delta, finish_reason: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id=message_id,
        choices=[ChunkChoice(delta=delta, finish_reason=finish_reason, index=0)],
        model=MODEL,
        object=OBJECT,
    )


def usage_chunk(message_id: str, prompt: int, completion: int) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id=message_id,
        choices=[],
        model=MODEL,
        object=OBJECT,
        usage=Usage(completion_tokens=completion, prompt_tokens=prompt, total_tokens=prompt + completion),
    )


def test_text_transcript() -> None:
    assert translate(events("anthropic_text")) == [
        chunk(TEXT_ID, Delta(role="assistant")),
        chunk(TEXT_ID, Delta(content="Hello")),
        chunk(TEXT_ID, Delta(content="!")),
        chunk(TEXT_ID, Delta(), "stop"),
        usage_chunk(TEXT_ID, 25, 15),
    ]


def test_skipped_events_are_none() -> None:
    translator = AnthropicStreamTranslator(ID)
    results = [(event.event, translator.feed(event)) for event in events("anthropic_text")]
    skipped = [kind for kind, result in results if result is None]
    assert skipped == ["content_block_start", "ping", "content_block_stop"]


def test_usage_chunk_encodes_like_elasticsearch() -> None:
    *_, last = translate(events("anthropic_text"))
    assert msgspec.json.encode(last) == (
        b'{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","choices":[],"model":"claude-sonnet-4-5-20250929",'
        b'"object":"chat.completion.chunk","usage":{"completion_tokens":15,"prompt_tokens":25,"total_tokens":40}}'
    )


def test_tool_use_transcript() -> None:
    def arguments(part: str) -> Delta:
        return Delta(tool_calls=[ToolCallDelta(index=0, function=FunctionDelta(arguments=part))])

    header = ToolCallDelta(
        index=0,  # the second content block, but the first tool call
        id="toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        function=FunctionDelta(arguments="", name="get_weather"),
        type="function",
    )
    assert translate(events("anthropic_tool_use")) == [
        chunk(TOOL_ID, Delta(role="assistant")),
        chunk(TOOL_ID, Delta(content="Okay")),
        chunk(TOOL_ID, Delta(content=", let's check the weather for San Francisco, CA:")),
        chunk(TOOL_ID, Delta(tool_calls=[header])),
        # the empty partial_json is skipped
        chunk(TOOL_ID, arguments('{"location":')),
        chunk(TOOL_ID, arguments(' "San')),
        chunk(TOOL_ID, arguments(' Francisco, CA"}')),
        chunk(TOOL_ID, Delta(), "tool_calls"),
        usage_chunk(TOOL_ID, 472, 89),
    ]


def test_several_tool_uses_are_numbered_from_zero_in_start_order() -> None:
    frames = anthropic.stream(
        tool_uses=[
            anthropic.ToolUse("toolu_a", "first", ['{"a":1}']),
            anthropic.ToolUse("toolu_b", "second", ['{"b":2}']),
        ]
    )
    calls = [
        (
            call.index,
            call.id,
            call.function.name if call.function else None,
            call.function and call.function.arguments,
        )
        for c in translate(decode(b"".join(frames)))
        for choice in c.choices
        for call in choice.delta.tool_calls or []
    ]
    assert calls == [
        (0, "toolu_a", "first", ""),
        (0, None, None, '{"a":1}'),
        (1, "toolu_b", "second", ""),
        (1, None, None, '{"b":2}'),
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("pause_turn", "stop"),
        ("refusal", "content_filter"),
        ("something_new", "something_new"),
    ],
)
def test_finish_reasons(stop_reason: str, finish_reason: str) -> None:
    frames = [anthropic.message_start(), anthropic.message_delta(stop_reason, output_tokens=3)]
    _, finish = translate(decode(b"".join(frames)))
    assert finish == chunk(TEXT_ID, Delta(), finish_reason)


def test_missing_stop_reason_is_stop() -> None:
    frames = anthropic.message_start() + anthropic.event(
        "message_delta",
        {"type": "message_delta", "delta": {"stop_reason": None}, "usage": {"output_tokens": 2}},
    )
    _, finish = translate(decode(frames))
    assert finish == chunk(TEXT_ID, Delta(), "stop")


def test_message_delta_usage_updates_both_counts() -> None:
    frames = [
        anthropic.message_start(input_tokens=10),
        anthropic.message_delta(usage={"input_tokens": 12, "output_tokens": 5}),
        anthropic.message_stop(),
    ]
    *_, last = translate(decode(b"".join(frames)))
    assert last.usage == Usage(completion_tokens=5, prompt_tokens=12, total_tokens=17)


def test_usage_without_message_delta_comes_from_message_start() -> None:
    frames = [anthropic.message_start(input_tokens=25), anthropic.message_stop()]
    assert translate(decode(b"".join(frames)))[-1] == usage_chunk(TEXT_ID, 25, 1)


def test_ping_and_unknown_events_are_ignored() -> None:
    translator = AnthropicStreamTranslator(ID)
    assert translator.feed(ServerSentEvent(event="ping", data='{"type": "ping"}')) is None
    assert translator.feed(ServerSentEvent(event="future_event", data="{not json")) is None
    thinking = '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}'
    assert translator.feed(ServerSentEvent(event="content_block_delta", data=thinking)) is None


def test_the_terminator_is_message_stop() -> None:
    stream = events("anthropic_text")
    assert TERMINATOR.name == "message_stop"
    assert [TERMINATOR.matches(event) for event in stream] == [False] * (len(stream) - 1) + [True]


def test_error_midstream_raises_with_the_provider_type() -> None:
    *before, failing = events("anthropic_error_midstream")
    translator = AnthropicStreamTranslator(ID)
    assert [c for c in map(translator.feed, before) if c is not None] == [
        chunk(TEXT_ID, Delta(role="assistant")),
        chunk(TEXT_ID, Delta(content="Elasticsearch is")),
    ]
    with pytest.raises(UpstreamError) as caught:
        translator.feed(failing)
    error = caught.value
    assert type(error) is UpstreamError
    assert error.reason == (
        f"Received an error response for request from inference entity id [{ID}]. Error message: [Overloaded]"
    )
    assert (error.status, error.error_type) == (502, "overloaded_error")


def test_error_event_with_a_non_json_body() -> None:
    with pytest.raises(UpstreamError) as caught:
        AnthropicStreamTranslator(ID).feed(ServerSentEvent(event="error", data="boom"))
    assert caught.value.reason.endswith("Error message: [boom]")
    assert caught.value.error_type == "api_error"


def test_malformed_event_raises() -> None:
    (event,) = decode(anthropic.MALFORMED_FRAME)
    with pytest.raises(MalformedUpstreamError) as caught:
        AnthropicStreamTranslator(ID).feed(event)
    error = caught.value
    assert error.reason == (
        f"The provider sent a malformed [content_block_delta] event for inference entity id [{ID}]: "
        "Input data was truncated"
    )
    assert (error.status, error.error_type) == (502, "x_content_parse_exception")


# --- non-2xx answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "status", "prefix", "error_type"),
    [
        (
            anthropic.authentication_error(),
            401,
            "Received an authentication error status code",
            "authentication_error",
        ),
        (
            anthropic.permission_error(),
            403,
            "Received a permission denied error status code",
            "permission_error",
        ),
        (anthropic.not_found_error("claude-9"), 404, f"Resource not found at [{URL}]", "not_found_error"),
        (anthropic.rate_limit_error(), 429, "Received a rate limit status code", "rate_limit_error"),
        (anthropic.api_error(), 502, "Received a server error status code", "api_error"),
        (anthropic.overloaded_error(), 502, "Received a server error status code", "overloaded_error"),
    ],
)
def test_error_replies(reply: Reply, status: int, prefix: str, error_type: str) -> None:
    assert reply.body is not None
    message = msgspec.json.decode(reply.body)["error"]["message"]
    error = parse_anthropic_error(reply.status, reply.body, ID, URL)
    assert error.reason == (
        f"{prefix} for request from inference entity id [{ID}] status [{reply.status}]. "
        f"Error message: [{message}]"
    )
    assert (error.status, error.error_type) == (status, error_type)


def test_error_with_a_non_json_body() -> None:
    error = parse_anthropic_error(502, b"<html>Bad Gateway</html>\n", ID, URL)
    assert error.reason == (
        f"Received a server error status code for request from inference entity id [{ID}] status [502]. "
        "Error message: [<html>Bad Gateway</html>]"
    )
    assert (error.status, error.error_type) == (502, "api_error")


def test_error_with_an_empty_body() -> None:
    error = parse_anthropic_error(400, b"", ID, URL)
    assert error.reason.endswith("status [400]. Error message: [HTTP 400]")
    assert error.status == 400


# --- the forced tool of a JSON response_format ------------------------------------------------

FORCED_ID = "msg_01Hn4fVvGE8oN1vJm8MhC2Qk"


def translate_json(stream: list[ServerSentEvent], tool: str = "city_facts") -> list[ChatCompletionChunk]:
    translator = AnthropicStreamTranslator(ID, json_tool=tool)
    return [c for c in (translator.feed(event) for event in stream) if c is not None]


def test_the_forced_tools_input_is_the_content() -> None:
    assert translate_json(events("anthropic_forced_tool")) == [
        chunk(FORCED_ID, Delta(role="assistant")),
        # the tool_use block start and the empty partial_json emit nothing
        chunk(FORCED_ID, Delta(content='{"city": "Oslo')),
        chunk(FORCED_ID, Delta(content='", "population"')),
        chunk(FORCED_ID, Delta(content=": 709000}")),
        chunk(FORCED_ID, Delta(), "stop"),  # not tool_calls: the client called no tool
        usage_chunk(FORCED_ID, 612, 41),
    ]


def test_an_input_without_fragments_is_the_empty_object() -> None:
    frames = anthropic.stream(tool_uses=[anthropic.ToolUse("toolu_x", "json_object", [""])])
    contents = [
        c.choices[0].delta.content
        for c in translate_json(decode(b"".join(frames)), "json_object")
        if c.choices
    ]
    assert contents == [None, "{}"]
    finish = translate_json(decode(b"".join(frames)), "json_object")[-2]
    assert finish.choices[0].finish_reason == "stop"


def test_other_stop_reasons_keep_their_meaning() -> None:
    frames = anthropic.forced_tool_stream("city_facts", ['{"city": "Os'], stop_reason="max_tokens")
    *_, finish, _ = translate_json(decode(b"".join(frames)))
    assert finish.choices[0].finish_reason == "length"


def test_without_json_tool_a_tool_of_that_name_is_a_tool_call() -> None:
    chunks = translate(events("anthropic_forced_tool"))
    assert chunks[1].choices[0].delta.tool_calls is not None
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
