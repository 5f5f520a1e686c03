"""Every rule of the unified chat request (inference_service.model.chat), one test each."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.api.bodies import decode_json, require_body
from inference_service.errors import BadRequestError
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChunkChoice,
    Delta,
    FunctionDelta,
    JsonObjectFormat,
    JsonSchema,
    JsonSchemaFormat,
    TextFormat,
    ToolCallDelta,
    Usage,
    validate_chat_request,
)
from inference_service.model.nesting import MAX_NESTING

DECODER = msgspec.json.Decoder(ChatCompletionRequest)


def decode_chat_request(body: bytes) -> ChatCompletionRequest:
    """What the chat handlers do with a body: required, then strictly decoded."""
    return decode_json(require_body(body), DECODER, "UnifiedCompletionRequest")


USER = {"role": "user", "content": "hi"}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def check(body: dict[str, Any]) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        validate_chat_request(decode_chat_request(json.dumps(body).encode()))
    return caught.value


def test_a_valid_request_passes() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "rain"},
        ],
        "tools": [TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "temperature": 2,
        "top_p": 1,
        "max_completion_tokens": 1,
    }
    validate_chat_request(decode_chat_request(json.dumps(body).encode()))


@pytest.mark.parametrize(
    ("body", "path_fragment"),
    [
        ({"messages": [USER], "stream": True}, "unknown field `stream`"),
        ({"messages": [USER], "temperature": 2.5}, "$.temperature"),
        ({"messages": [USER], "top_p": -0.1}, "$.top_p"),
        ({"messages": [USER], "max_completion_tokens": 0}, "$.max_completion_tokens"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "$.messages[0]"),
        ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, "$.messages[0].content"),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}
                        ],
                    }
                ]
            },
            "$.messages[0].tool_calls[0].function.arguments",
        ),
        (
            {
                "messages": [USER],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}],
            },
            "parameters",
        ),
        ({}, "missing required field `messages`"),
    ],
)
def test_decode_errors_name_the_json_path(body: dict[str, Any], path_fragment: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        decode_chat_request(json.dumps(body).encode())
    assert caught.value.error_type == "x_content_parse_exception"
    assert path_fragment in caught.value.reason


def test_empty_and_malformed_bodies() -> None:
    for body, es_type in (
        (b"", "parse_exception"),
        (b"{", "x_content_parse_exception"),
        (b"\xff", "x_content_parse_exception"),
        (b'{"messages": [{"role": "user", "content": "a\xff"}]}', "x_content_parse_exception"),
    ):
        with pytest.raises(BadRequestError) as caught:
            decode_chat_request(body)
        assert caught.value.error_type == es_type


def test_tool_parameters_nesting_is_bounded() -> None:
    deep: dict[str, Any] = {"type": "object"}
    for _ in range(MAX_NESTING):
        deep = {"properties": deep}
    tool = {"type": "function", "function": {"name": "f", "parameters": deep}}
    error = check({"messages": [USER], "tools": [tool]})
    assert f"[$.tools[0].function.parameters] nests deeper than {MAX_NESTING} levels" in error.reason
    assert error.param == "$.tools[0].function.parameters"


def test_empty_messages_uses_the_elasticsearch_wording() -> None:
    error = check({"messages": []})
    assert error.reason == "Validation Failed: 1: Field [messages] cannot be an empty array;"
    assert error.error_type == "action_request_validation_exception"
    assert error.param == "$.messages"


def test_tool_choice_string_must_be_known() -> None:
    assert (
        "[$.tool_choice] must be one of [auto, none, required], got [always]"
        in check({"messages": [USER], "tool_choice": "always"}).reason
    )


def test_required_tool_choice_needs_tools() -> None:
    assert "[required] but no [tools]" in check({"messages": [USER], "tool_choice": "required"}).reason


def test_named_tool_choice_needs_tools_and_a_matching_tool() -> None:
    named = {"type": "function", "function": {"name": "lookup"}}
    assert "no [tools] were given" in check({"messages": [USER], "tool_choice": named}).reason
    error = check({"messages": [USER], "tools": [TOOL], "tool_choice": named})
    assert "[$.tool_choice.function.name] names function [lookup] which is not in [tools]" in error.reason


def test_duplicate_and_invalid_tool_names() -> None:
    bad = {"type": "function", "function": {"name": "bad name!"}}
    error = check({"messages": [USER], "tools": [TOOL, TOOL, bad]})
    assert "[$.tools[1].function.name] duplicate tool name [get_weather]" in error.reason
    assert "[$.tools[2].function.name] tool name [bad name!] must match" in error.reason
    long_name = {"type": "function", "function": {"name": "x" * 65}}
    assert "must match" in check({"messages": [USER], "tools": [long_name]}).reason


def test_tool_message_must_answer_an_earlier_call() -> None:
    error = check({"messages": [USER, {"role": "tool", "tool_call_id": "c9", "content": "x"}]})
    assert "[$.messages[1].tool_call_id] [c9] answers no earlier assistant tool call" in error.reason
    later = {
        "role": "assistant",
        "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }
    error = check({"messages": [{"role": "tool", "tool_call_id": "c9", "content": "x"}, later]})
    assert error.param == "$.messages[0].tool_call_id"


def test_every_violation_is_reported_in_one_error() -> None:
    error = check({"messages": [], "tool_choice": "always", "tools": [TOOL, TOOL]})
    assert error.reason.startswith("Validation Failed: 1: ")
    assert "2: " in error.reason and "3: " in error.reason


def test_chunks_encode_exactly_like_elasticsearch() -> None:
    tool_chunk = ChatCompletionChunk(
        id="chatcmpl-123",
        choices=[
            ChunkChoice(
                delta=Delta(
                    tool_calls=[
                        ToolCallDelta(
                            index=0,
                            id="call_1",
                            function=FunctionDelta(arguments="", name="get_weather"),
                            type="function",
                        )
                    ]
                ),
                index=0,
            )
        ],
        model="gpt-4o-mini-2024-07-18",
        object="chat.completion.chunk",
    )
    assert msgspec.json.encode(tool_chunk) == (
        b'{"id":"chatcmpl-123","choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":'
        b'{"arguments":"","name":"get_weather"},"type":"function"}]},"index":0}],'
        b'"model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk"}'
    )
    usage_chunk = ChatCompletionChunk(
        id="chatcmpl-123",
        choices=[],
        model="m",
        object="chat.completion.chunk",
        usage=Usage(completion_tokens=28, prompt_tokens=16, total_tokens=44),
    )
    assert msgspec.json.encode(usage_chunk) == (
        b'{"id":"chatcmpl-123","choices":[],"model":"m","object":"chat.completion.chunk",'
        b'"usage":{"completion_tokens":28,"prompt_tokens":16,"total_tokens":44}}'
    )


# --- response_format, seed, parallel_tool_calls ---------------------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def json_schema(**spec: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, **spec}}


def test_response_formats_decode_as_a_tagged_union() -> None:
    for fmt, kind in (
        ({"type": "text"}, TextFormat),
        ({"type": "json_object"}, JsonObjectFormat),
        (json_schema(strict=True, description="A city"), JsonSchemaFormat),
    ):
        chat = decode_chat_request(json.dumps({"messages": [USER], "response_format": fmt}).encode())
        validate_chat_request(chat)
        assert isinstance(chat.response_format, kind)
    assert chat.json_output is chat.response_format
    assert isinstance(chat.response_format, JsonSchemaFormat)
    assert chat.response_format.json_schema == JsonSchema(
        name="city", description="A city", schema=SCHEMA, strict=True
    )
    text = decode_chat_request(json.dumps({"messages": [USER], "response_format": {"type": "text"}}).encode())
    assert text.json_output is None


@pytest.mark.parametrize(
    ("fmt", "fragment"),
    [
        ({"type": "yaml"}, "$.response_format"),
        ({"type": "json_schema"}, "missing required field `json_schema` - at `$.response_format`"),
        ({"type": "json_schema", "json_schema": {"schema": {}}}, "$.response_format.json_schema"),
        (
            {"type": "json_schema", "json_schema": {"name": "n", "schema": []}},
            "$.response_format.json_schema.schema",
        ),
        ({"type": "text", "json_schema": {"name": "n"}}, "unknown field `json_schema`"),
    ],
)
def test_malformed_response_formats_name_the_path(fmt: dict[str, Any], fragment: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        decode_chat_request(json.dumps({"messages": [USER], "response_format": fmt}).encode())
    assert caught.value.error_type == "x_content_parse_exception"
    assert fragment in caught.value.reason


def test_an_invalid_json_schema_is_a_400_naming_the_schema_and_the_problem() -> None:
    broken = {"type": "object", "properties": {"city": {"type": "strin"}}}
    error = check({"messages": [USER], "response_format": json_schema(schema=broken)})
    assert error.param == "$.response_format.json_schema.schema"
    assert error.error_type == "action_request_validation_exception"
    assert (
        "[$.response_format.json_schema.schema] is not a valid JSON Schema (draft 2020-12): "
        "at [$.properties.city.type]: 'strin' is not valid under any of the given schemas"
    ) in error.reason


def test_the_schema_name_follows_the_tool_name_rule() -> None:
    error = check({"messages": [USER], "response_format": json_schema(name="my schema")})
    assert error.param == "$.response_format.json_schema.name"
    assert "[my schema] must match ^[a-zA-Z0-9_-]{1,64}$" in error.reason


def test_schema_nesting_is_bounded_before_the_metaschema_check() -> None:
    deep: dict[str, Any] = {"type": "object"}
    for _ in range(MAX_NESTING):
        deep = {"type": "object", "properties": {"x": deep}}
    error = check({"messages": [USER], "response_format": json_schema(schema=deep)})
    assert f"[$.response_format.json_schema.schema] nests deeper than {MAX_NESTING} levels" in error.reason


def test_parallel_tool_calls_needs_tools() -> None:
    error = check({"messages": [USER], "parallel_tool_calls": True})
    assert error.param == "$.parallel_tool_calls"
    assert "[$.parallel_tool_calls] is only allowed when [tools] are given" in error.reason
    validate_chat_request(
        decode_chat_request(
            json.dumps(
                {"messages": [USER], "tools": [TOOL], "parallel_tool_calls": False, "seed": 7}
            ).encode()
        )
    )


def test_response_format_problems_join_the_one_400() -> None:
    error = check(
        {
            "messages": [],
            "parallel_tool_calls": False,
            "response_format": json_schema(name="a b", schema={"type": 1}),
        }
    )
    assert error.reason.count(";") == 4  # messages, parallel_tool_calls, name, schema


def image(url: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": url}}],
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://images.example.com/a.png",
        "HTTPS://images.example.com/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ],
)
def test_https_and_base64_data_image_urls_pass(url: str) -> None:
    validate_chat_request(decode_chat_request(json.dumps({"messages": [image(url)]}).encode()))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://images.example.com/a.png", "must be an https URL or a base64 data URI, got scheme [http]"),
        ("file:///etc/passwd", "must be an https URL or a base64 data URI, got scheme [file]"),
        ("images.example.com/a.png", "must be an https URL or a base64 data URI, got no URL scheme"),
        ("https:/a.png", "must be an https URL with a host"),
        ("data:image/png,rawbytes", "must be a base64 data URI (data:<media type>;base64,<data>)"),
        ("data:image/png;base64,", "must be a base64 data URI"),
        ("data:;base64,AAAA", "must be a base64 data URI"),
    ],
)
def test_other_image_urls_are_refused_naming_the_part(url: str, problem: str) -> None:
    error = check({"messages": [USER, image(url)]})
    assert error.param == "$.messages[1].content[1].image_url.url"
    assert f"[$.messages[1].content[1].image_url.url] {problem}" in error.reason


# --- frequency_penalty, presence_penalty ---------------------------------------------------


@pytest.mark.parametrize("field", ["frequency_penalty", "presence_penalty"])
def test_penalties_are_in_openais_range(field: str) -> None:
    for value in (-2, -0.5, 0, 2.0):
        chat = decode_chat_request(json.dumps({"messages": [USER], field: value}).encode())
        assert getattr(chat, field) == value
    for value, bound in ((2.01, "<= 2"), (-3, ">= -2")):
        with pytest.raises(BadRequestError) as caught:
            decode_chat_request(json.dumps({"messages": [USER], field: value}).encode())
        assert caught.value.error_type == "x_content_parse_exception"
        assert f"Expected `float` {bound}" in caught.value.reason and f"`$.{field}`" in caught.value.reason
    with pytest.raises(BadRequestError) as text:
        decode_chat_request(json.dumps({"messages": [USER], field: "high"}).encode())
    assert field in text.value.reason
