"""Unified chat request -> Anthropic Messages body (inference_service.providers.anthropic.request):
one case per documented deviation."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.errors import InvalidRequestError, UnsupportedError
from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.anthropic.request import JSON_OBJECT_TOOL, json_tool, to_anthropic_request
from inference_service.providers.anthropic.settings import AnthropicServiceSettings, AnthropicTaskSettings

SETTINGS = AnthropicServiceSettings(model_id="claude-sonnet-4-5")
TASK = AnthropicTaskSettings(max_tokens=1024)
USER = {"role": "user", "content": "hi"}


def request(messages: list[dict[str, Any]] | None = None, **fields: Any) -> ChatCompletionRequest:
    body = {"messages": messages if messages is not None else [USER], **fields}
    return msgspec.json.decode(json.dumps(body).encode(), type=ChatCompletionRequest)


def translate(
    req: ChatCompletionRequest,
    settings: AnthropicServiceSettings = SETTINGS,
    task: AnthropicTaskSettings = TASK,
) -> dict[str, Any]:
    body = to_anthropic_request(req, settings, task)
    assert isinstance(body, bytes)
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_minimal_request_bytes() -> None:
    assert to_anthropic_request(request(), SETTINGS, TASK) == (
        b'{"model":"claude-sonnet-4-5","max_tokens":1024,'
        b'"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}'
    )


def test_model_from_the_request_wins() -> None:
    assert translate(request(model="claude-opus-4"))["model"] == "claude-opus-4"


def test_system_messages_are_joined_into_the_system_prompt() -> None:
    body = translate(
        request(
            [
                {"role": "system", "content": "Be brief."},
                USER,
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "Be kind."}, {"type": "text", "text": "!"}],
                },
            ]
        )
    )
    assert body["system"] == "Be brief.\n\nBe kind.\n\n!"
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_no_system_key_without_system_messages() -> None:
    assert "system" not in translate(request())


def test_tool_calls_and_results() -> None:
    body = translate(
        request(
            [
                USER,
                {
                    "role": "assistant",
                    "content": "Let me check.",
                    "tool_calls": [
                        call("toolu_1", "get_weather", '{"location": "Paris"}'),
                        call("toolu_2", "get_time", ""),
                    ],
                },
                {"role": "tool", "tool_call_id": "toolu_1", "content": "rain"},
                {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "noon"}]},
                {"role": "user", "content": "Thanks"},
            ]
        )
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ],
        },
        {
            "role": "user",  # both results and the next user message: one user turn
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "rain"}],
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "noon"}],
                },
                {"type": "text", "text": "Thanks"},
            ],
        },
    ]


def test_tool_result_without_content_has_no_content_key() -> None:
    body = translate(
        request(
            [
                {"role": "assistant", "tool_calls": [call("t1", "f", "{}")]},
                {"role": "tool", "tool_call_id": "t1"},
            ]
        )
    )
    assert body["messages"][1] == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]}


@pytest.mark.parametrize("arguments", ["[1, 2]", '"text"', "42", "{not json", "null"])
def test_tool_call_arguments_must_be_a_json_object(arguments: str) -> None:
    req = request(
        [USER, {"role": "assistant", "tool_calls": [call("a", "f", "{}"), call("b", "g", arguments)]}]
    )
    with pytest.raises(InvalidRequestError) as caught:
        translate(req)
    path = "$.messages[1].tool_calls[1].function.arguments"
    assert caught.value.reason == f"{path} must be a JSON object for the [anthropic] service"
    assert caught.value.param == path
    assert caught.value.error_type == "validation_exception"


def test_consecutive_turns_of_the_same_role_are_merged() -> None:
    body = translate(
        request(
            [
                {"role": "user", "content": "a"},
                {"role": "user", "content": "b"},
                {"role": "assistant", "content": "c"},
                {"role": "assistant", "content": "d"},
                {"role": "user", "content": "e"},
            ]
        )
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}]},
        {"role": "user", "content": [{"type": "text", "text": "e"}]},
    ]


def test_max_tokens_from_the_request_else_task_settings() -> None:
    assert translate(request(max_completion_tokens=7))["max_tokens"] == 7
    assert translate(request())["max_tokens"] == 1024


def test_temperature_and_top_p_from_the_request_else_task_settings_and_top_k_from_task() -> None:
    task = AnthropicTaskSettings(max_tokens=10, temperature=0.3, top_p=0.8, top_k=40)
    body = translate(request(temperature=0.0, top_p=0.5), task=task)
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.0, 0.5, 40)
    body = translate(request(), task=task)
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.3, 0.8, 40)
    body = translate(request())
    assert not {"temperature", "top_p", "top_k"} & set(body)


def test_stop_becomes_stop_sequences() -> None:
    body = translate(request(stop=["END", "###"]))
    assert body["stop_sequences"] == ["END", "###"]
    assert "stop" not in body
    assert "stop_sequences" not in translate(request(stop=[]))


def test_tools_become_input_schemas() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather by city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "now"}},
    ]
    assert translate(request(tools=tools))["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather by city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice_mapping(choice: Any, expected: dict[str, Any]) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert translate(request(tools=tools, tool_choice=choice))["tool_choice"] == expected


def test_no_tool_choice_sends_none() -> None:
    assert "tool_choice" not in translate(request())


def test_image_data_url_becomes_a_base64_source_and_others_a_url_source() -> None:
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]
    body = translate(request([{"role": "user", "content": parts}]))
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_pdf_file_becomes_a_document_block() -> None:
    part = {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
    }
    body = translate(request([{"role": "user", "content": [part]}]))
    assert body["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        }
    ]


@pytest.mark.parametrize("url", ["data:image/png,rawbytes", "data:image/png;base64,"])
def test_data_urls_must_be_base64(url: str) -> None:
    part = {"type": "image_url", "image_url": {"url": url}}
    with pytest.raises(InvalidRequestError) as caught:
        translate(request([USER, {"role": "user", "content": [{"type": "text", "text": "x"}, part]}]))
    assert caught.value.reason == "$.messages[1].content[1]: only base64 data URLs are supported"
    assert caught.value.param == "$.messages[1].content[1]"


def test_files_must_be_data_urls() -> None:
    part = {"type": "file", "file": {"file_data": "JVBERi0="}}
    with pytest.raises(UnsupportedError) as caught:
        translate(request([{"role": "user", "content": [part]}]))
    assert caught.value.reason == "$.messages[0].content[0]: files must be given as data URLs"
    assert caught.value.param == "$.messages[0].content[0]"


def test_only_pdf_files_become_documents() -> None:
    part = {"type": "file", "file": {"file_data": "data:text/csv;base64,YSxi"}}
    with pytest.raises(UnsupportedError) as caught:
        translate(request([{"role": "user", "content": [part]}]))
    assert (
        caught.value.reason
        == "$.messages[0].content[0]: the [anthropic] service reads PDF files only, not [text/csv]"
    )


def test_system_messages_take_text_only() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    with pytest.raises(UnsupportedError) as caught:
        translate(request([{"role": "system", "content": [{"type": "text", "text": "a"}, image]}, USER]))
    assert caught.value.reason == (
        "$.messages[0].content: system messages take text only for the [anthropic] service, not [image]"
    )
    assert caught.value.param == "$.messages[0].content"


def test_reasoning_is_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        translate(request(reasoning={"effort": "high"}))
    assert caught.value.reason == "[reasoning] is not supported by the [anthropic] service"
    assert caught.value.param == "reasoning"


# --- response_format as a forced tool, seed, parallel_tool_calls ------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS = [{"type": "function", "function": {"name": "lookup"}}]


def test_json_schema_becomes_a_forced_tool_named_after_the_schema() -> None:
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "city_facts", "description": "Facts about a city", "schema": SCHEMA},
    }
    req = request(response_format=fmt)
    body = translate(req)
    assert body["tools"] == [
        {"name": "city_facts", "description": "Facts about a city", "input_schema": SCHEMA}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "city_facts"}
    assert json_tool(req) == "city_facts"


def test_json_object_becomes_a_forced_tool_taking_any_object() -> None:
    req = request(response_format={"type": "json_object"})
    body = translate(req)
    (tool,) = body["tools"]
    assert tool["name"] == JSON_OBJECT_TOOL == json_tool(req)
    assert tool["input_schema"] == {"type": "object"}
    assert "JSON" in tool["description"]
    assert body["tool_choice"] == {"type": "tool", "name": JSON_OBJECT_TOOL}


def test_text_format_adds_nothing() -> None:
    req = request(response_format={"type": "text"})
    assert translate(req) == translate(request())
    assert json_tool(req) is None and json_tool(request()) is None


@pytest.mark.parametrize("extra", [{"tools": TOOLS}, {"tool_choice": "auto"}])
def test_a_json_format_leaves_no_room_for_tools(extra: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedError) as caught:
        translate(request(response_format={"type": "json_object"}, **extra))
    assert caught.value.param == "response_format"
    assert "Anthropic has no JSON mode" in caught.value.reason


def test_the_schema_must_describe_an_object() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "list", "schema": {"type": "array"}}}
    with pytest.raises(UnsupportedError) as caught:
        translate(request(response_format=fmt))
    assert caught.value.param == "$.response_format.json_schema.schema"
    assert "always an object" in caught.value.reason


def test_seed_is_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        translate(request(seed=1))
    assert caught.value.param == "seed"
    assert caught.value.reason == "[seed] is not supported by the [anthropic] service"


def penalty(field: str, value: float) -> dict[str, Any]:
    return {field: value}


@pytest.mark.parametrize("field", ["frequency_penalty", "presence_penalty"])
def test_a_penalty_is_refused_unless_0(field: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        translate(request(**penalty(field, -0.5)))
    assert caught.value.param == field
    assert caught.value.reason == (
        f"[{field}] is not supported by the [anthropic] service (got [-0.5]; leave it out, or send 0)"
    )
    neutral = translate(request(**penalty(field, 0)))
    assert neutral == translate(request())  # 0 asks for nothing: nothing is sent


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", {"type": "any", "disable_parallel_tool_use": True}),
        (
            {"type": "function", "function": {"name": "lookup"}},
            {"type": "tool", "name": "lookup", "disable_parallel_tool_use": True},
        ),
        ("none", {"type": "none"}),  # no tool is called: nothing to serialise
    ],
)
def test_parallel_tool_calls_false_disables_parallel_tool_use(choice: Any, expected: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"tools": TOOLS, "parallel_tool_calls": False}
    if choice is not None:
        fields["tool_choice"] = choice
    assert translate(request(**fields))["tool_choice"] == expected


def test_parallel_tool_calls_true_is_anthropics_default() -> None:
    body = translate(request(tools=TOOLS, parallel_tool_calls=True))
    assert "tool_choice" not in body
