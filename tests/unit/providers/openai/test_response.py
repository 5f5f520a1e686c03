"""OpenAI stream events and error bodies -> unified chunks and upstream errors
(inference_service.providers.openai.response), over the recorded transcripts."""

from __future__ import annotations

import msgspec
import pytest

from inference_service.errors import MalformedUpstreamError, UpstreamError
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChunkChoice,
    CompletionTokensDetails,
    Delta,
    FunctionDelta,
    PromptTokensDetails,
    ToolCallDelta,
    Usage,
)
from inference_service.providers.openai.response import (
    TERMINATOR,
    parse_openai_error,
    parse_openai_event,
)
from inference_service.sse_decoder import ServerSentEvent, SSEDecoder
from tests.fakes import openai
from tests.fakes.sse import fixture

ID = "my-openai"
URL = "https://api.openai.com/v1/chat/completions"
OBJECT = "chat.completion.chunk"
SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"


def events(name: str) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    out = decoder.feed(fixture(name))
    decoder.close()
    return out


def chunk(delta: Delta, finish_reason: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-123",
        choices=[ChunkChoice(delta=delta, finish_reason=finish_reason, index=0)],
        model="gpt-4o-mini",
        object=OBJECT,
    )


def usage_chunk(prompt: int, completion: int) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-123",
        choices=[],
        model="gpt-4o-mini",
        object=OBJECT,
        usage=Usage(
            completion_tokens=completion,
            prompt_tokens=prompt,
            total_tokens=prompt + completion,
            prompt_tokens_details=PromptTokensDetails(cached_tokens=0),
            completion_tokens_details=CompletionTokensDetails(reasoning_tokens=0),
        ),
    )


def test_text_transcript() -> None:
    translated = [parse_openai_event(event, ID) for event in events("openai_text")]
    assert translated == [
        chunk(Delta(content="", role="assistant")),
        chunk(Delta(content="Hello")),
        chunk(Delta(content="!")),
        chunk(Delta(content=" How can I help")),
        chunk(Delta(content=" you today?")),
        chunk(Delta(), "stop"),
        usage_chunk(9, 12),
        None,  # [DONE]
    ]


def test_chunks_reencode_without_the_fields_elasticsearch_drops() -> None:
    first, *_, finish, usage, _done = (parse_openai_event(e, ID) for e in events("openai_text"))
    assert msgspec.json.encode(first) == (
        b'{"id":"chatcmpl-123","choices":[{"delta":{"content":"","role":"assistant"},"index":0}],'
        b'"model":"gpt-4o-mini","object":"chat.completion.chunk"}'
    )
    assert msgspec.json.encode(finish) == (
        b'{"id":"chatcmpl-123","choices":[{"delta":{},"finish_reason":"stop","index":0}],'
        b'"model":"gpt-4o-mini","object":"chat.completion.chunk"}'
    )
    assert msgspec.json.encode(usage) == (
        b'{"id":"chatcmpl-123","choices":[],"model":"gpt-4o-mini","object":"chat.completion.chunk",'
        b'"usage":{"completion_tokens":12,"prompt_tokens":9,"total_tokens":21,'
        b'"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}'
    )


def test_tool_call_transcript() -> None:
    def arguments(part: str) -> Delta:
        return Delta(tool_calls=[ToolCallDelta(index=0, function=FunctionDelta(arguments=part))])

    header = ToolCallDelta(
        index=0,
        id="call_abc123",
        function=FunctionDelta(arguments="", name="get_current_weather"),
        type="function",
    )
    translated = [parse_openai_event(event, ID) for event in events("openai_tool_call")]
    assert translated == [
        chunk(Delta(role="assistant", tool_calls=[header])),
        chunk(arguments('{"')),
        chunk(arguments("location")),
        chunk(arguments('":"')),
        chunk(arguments("Boston")),
        chunk(arguments(', MA"}')),
        chunk(Delta(), "tool_calls"),
        usage_chunk(82, 17),
        None,
    ]


def test_the_terminator_is_done() -> None:
    done, *rest = reversed(events("openai_text"))
    assert TERMINATOR.name == "[DONE]"
    assert TERMINATOR.matches(done)
    assert not any(TERMINATOR.matches(event) for event in rest)


def test_error_midstream_keeps_the_chunks_before_it_and_raises_the_provider_error() -> None:
    *before, failing = events("openai_error_midstream")
    assert [parse_openai_event(event, ID) for event in before] == [
        chunk(Delta(content="", role="assistant")),
        chunk(Delta(content="Elasticsearch is")),
        chunk(Delta(content=" a distributed")),
    ]
    with pytest.raises(UpstreamError) as caught:
        parse_openai_event(failing, ID)
    error = caught.value
    assert type(error) is UpstreamError
    assert error.reason == (
        f"Received an error response for request from inference entity id [{ID}]. "
        f"Error message: [{SERVER_ERROR}]"
    )
    assert (error.status, error.error_type, error.code, error.param) == (502, "server_error", None, None)


def test_error_frame_keeps_type_code_and_param() -> None:
    data = msgspec.json.encode(
        openai.error_body("too long", "invalid_request_error", "context_length_exceeded", "messages")
    ).decode()
    with pytest.raises(UpstreamError) as caught:
        parse_openai_event(ServerSentEvent(data=data), ID)
    error = caught.value
    assert error.reason.endswith("Error message: [too long]")
    assert (error.error_type, error.code, error.param) == (
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
    )


def test_numeric_error_code_becomes_a_string() -> None:
    with pytest.raises(UpstreamError) as caught:
        parse_openai_event(ServerSentEvent(data='{"error":{"message":"m","code":500}}'), ID)
    assert caught.value.code == "500"
    assert caught.value.error_type == "error"  # no type given


def test_event_error_with_a_non_json_body_keeps_the_text() -> None:
    with pytest.raises(UpstreamError) as caught:
        parse_openai_event(ServerSentEvent(event="error", data="upstream exploded"), ID)
    error = caught.value
    assert type(error) is UpstreamError
    assert error.reason == (
        f"Received an error response for request from inference entity id [{ID}]. "
        "Error message: [upstream exploded]"
    )
    assert error.error_type == "error"


def test_event_error_with_a_json_body() -> None:
    data = '{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}'
    with pytest.raises(UpstreamError) as caught:
        parse_openai_event(ServerSentEvent(event="error", data=data), ID)
    assert caught.value.reason.endswith("Error message: [quota]")
    assert (caught.value.error_type, caught.value.code) == ("insufficient_quota", "insufficient_quota")


def test_truncated_frame_is_malformed() -> None:
    decoder = SSEDecoder()
    (event,) = decoder.feed(openai.MALFORMED_FRAME)
    with pytest.raises(MalformedUpstreamError) as caught:
        parse_openai_event(event, ID)
    error = caught.value
    assert error.reason == (
        f"The provider sent a malformed event for inference entity id [{ID}]: Input data was truncated"
    )
    assert (error.status, error.error_type) == (502, "x_content_parse_exception")


def test_json_that_is_neither_a_chunk_nor_an_error_is_malformed() -> None:
    with pytest.raises(MalformedUpstreamError) as caught:
        parse_openai_event(ServerSentEvent(data='{"hello":"world"}'), ID)
    assert caught.value.reason == (
        f"The provider sent a malformed event for inference entity id [{ID}]: "
        "Object missing required field `id`"
    )


# --- non-2xx answers -----------------------------------------------------------------------


def test_401_passes_through_with_the_authentication_wording() -> None:
    reply = openai.invalid_api_key("sk-test-1234")
    assert reply.body is not None
    error = parse_openai_error(401, reply.body, ID, URL)
    assert error.reason == (
        f"Received an authentication error status code for request from inference entity id [{ID}] "
        "status [401]. Error message: [Incorrect API key provided: sk-*****1234. "
        "You can find your API key at https://platform.openai.com/account/api-keys.]"
    )
    assert (error.status, error.error_type, error.code, error.param) == (
        401,
        "invalid_request_error",
        "invalid_api_key",
        None,
    )


def test_404_names_the_url() -> None:
    reply = openai.model_not_found("gpt-9")
    assert reply.body is not None
    error = parse_openai_error(404, reply.body, ID, URL)
    assert error.reason == (
        f"Resource not found at [{URL}] for request from inference entity id [{ID}] status [404]. "
        "Error message: [The model `gpt-9` does not exist or you do not have access to it.]"
    )
    assert (error.status, error.error_type, error.code) == (404, "invalid_request_error", "model_not_found")


def test_429_passes_through_with_the_rate_limit_wording() -> None:
    reply = openai.rate_limit_exceeded()
    assert reply.body is not None
    error = parse_openai_error(429, reply.body, ID, URL)
    assert error.reason.startswith(
        f"Received a rate limit status code for request from inference entity id [{ID}] status [429]. "
        "Error message: [Rate limit reached for gpt-4o-mini in organization org-123"
    )
    assert (error.status, error.error_type, error.code) == (429, "requests", "rate_limit_exceeded")


def test_500_becomes_502() -> None:
    reply = openai.server_error()
    assert reply.body is not None
    error = parse_openai_error(500, reply.body, ID, URL)
    assert error.reason == (
        f"Received a server error status code for request from inference entity id [{ID}] status [500]. "
        f"Error message: [{SERVER_ERROR}]"
    )
    assert (error.status, error.error_type, error.code) == (502, "server_error", None)


def test_non_json_body_is_the_message_stripped() -> None:
    error = parse_openai_error(503, b"  <html>Service Unavailable</html>\n", ID, URL)
    assert error.reason == (
        f"Received a server error status code for request from inference entity id [{ID}] status [503]. "
        "Error message: [<html>Service Unavailable</html>]"
    )
    assert (error.status, error.error_type, error.code, error.param) == (502, "status_exception", None, None)


def test_empty_body_says_the_status() -> None:
    error = parse_openai_error(400, b"", ID, URL)
    assert error.reason == (
        f"Received a bad request status code for request from inference entity id [{ID}] status [400]. "
        "Error message: [HTTP 400]"
    )
    assert error.status == 400


def test_long_non_json_body_is_cut_and_bad_utf8_replaced() -> None:
    error = parse_openai_error(403, b"\xff" + b"x" * 1000, ID, URL)
    assert error.reason.endswith("Error message: [\ufffd" + "x" * 499 + "]")
    assert error.reason.startswith("Received a permission denied error status code")
    assert error.status == 403


def test_json_error_without_type_is_a_status_exception() -> None:
    error = parse_openai_error(422, b'{"error":{"message":"bad field"}}', ID, URL)
    assert error.reason == (
        f"Received an unsuccessful status code for request from inference entity id [{ID}] status [422]. "
        "Error message: [bad field]"
    )
    assert (error.status, error.error_type) == (422, "status_exception")
