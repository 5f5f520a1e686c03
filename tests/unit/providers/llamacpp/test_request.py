"""Unified chat request -> llama.cpp request (inference_service.providers.llamacpp.provider
``to_llamacpp_request``): the documented deviations. Pure: no model is loaded."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.errors import InvalidRequestError, UnsupportedError
from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.llamacpp.provider import to_llamacpp_request
from inference_service.providers.llamacpp.settings import LlamaCppTaskSettings

ID = "local-gemma"
NO_TASK = LlamaCppTaskSettings()
USER = {"role": "user", "content": "hi"}
TOOL = {"type": "function", "function": {"name": "f"}}


def request(messages: list[dict[str, Any]] | None = None, **fields: Any) -> ChatCompletionRequest:
    body = {"messages": messages if messages is not None else [USER], **fields}
    return msgspec.json.decode(json.dumps(body).encode(), type=ChatCompletionRequest)


def test_minimal_request() -> None:
    assert to_llamacpp_request(request(), NO_TASK, ID) == {
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_roles_and_contents() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        {"role": "assistant", "content": "ok"},
        {"role": "assistant"},
    ]
    assert to_llamacpp_request(request(messages), NO_TASK, ID)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one\ntwo"},  # text parts joined
        {"role": "assistant", "content": "ok"},
        {"role": "assistant", "content": ""},
    ]


@pytest.mark.parametrize(
    "fields",
    [{"tools": [TOOL]}, {"tool_choice": "none"}, {"tools": [TOOL], "tool_choice": "auto"}],
)
def test_tools_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        to_llamacpp_request(request(**fields), NO_TASK, ID)
    assert caught.value.reason == f"the model of [{ID}] cannot call tools; remove [tools] and [tool_choice]"
    assert caught.value.param == "$.tools"
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("part", "tag"),
    [
        ({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}, "image_url"),
        ({"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}}, "file"),
    ],
)
def test_non_text_parts_are_refused(part: dict[str, Any], tag: str) -> None:
    content = [{"type": "text", "text": "look"}, part]
    with pytest.raises(UnsupportedError) as caught:
        to_llamacpp_request(request([USER, {"role": "user", "content": content}]), NO_TASK, ID)
    assert (
        caught.value.reason
        == f"$.messages[1].content[1]: the [llamacpp] service reads text only, not [{tag}]"
    )
    assert caught.value.param == "$.messages[1].content[1]"


def test_reasoning_is_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        to_llamacpp_request(request(reasoning={"effort": "low"}), NO_TASK, ID)
    assert caught.value.reason == "[reasoning] is not supported by the [llamacpp] service"
    assert caught.value.param == "reasoning"


TASK = LlamaCppTaskSettings(max_tokens=100, temperature=0.7, top_p=0.9)


def test_request_values_win_over_task_settings() -> None:
    body = to_llamacpp_request(request(max_completion_tokens=5, temperature=0.0, top_p=0.0), TASK, ID)
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (5, 0.0, 0.0)


def test_task_settings_apply_when_the_request_has_none() -> None:
    body = to_llamacpp_request(request(), TASK, ID)
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (100, 0.7, 0.9)


def test_nothing_set_sends_nothing() -> None:
    body = to_llamacpp_request(request(), NO_TASK, ID)
    assert not {"max_tokens", "temperature", "top_p", "stop", "max_completion_tokens"} & set(body)


def test_max_completion_tokens_is_renamed() -> None:
    body = to_llamacpp_request(request(max_completion_tokens=8), NO_TASK, ID)
    assert body["max_tokens"] == 8
    assert "max_completion_tokens" not in body


def test_stop() -> None:
    assert to_llamacpp_request(request(stop=["\n\n", "END"]), NO_TASK, ID)["stop"] == ["\n\n", "END"]
    assert "stop" not in to_llamacpp_request(request(stop=[]), NO_TASK, ID)


@pytest.mark.parametrize(
    "fmt",
    [
        {"type": "text"},
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": True}},
    ],
)
def test_response_format_goes_to_llamacpps_grammar_as_it_is(fmt: dict[str, Any]) -> None:
    body = to_llamacpp_request(request(response_format=fmt), NO_TASK, ID)
    assert body["response_format"] == fmt


def test_seed_goes_as_it_is() -> None:
    assert to_llamacpp_request(request(seed=11), NO_TASK, ID)["seed"] == 11
    assert "seed" not in to_llamacpp_request(request(), NO_TASK, ID)


def test_penalties_go_as_they_are() -> None:
    body = to_llamacpp_request(request(frequency_penalty=1.5, presence_penalty=-0.5), NO_TASK, ID)
    assert body["frequency_penalty"] == 1.5 and body["presence_penalty"] == -0.5
    assert body["presence_penalty"] == -0.5
    only = to_llamacpp_request(request(presence_penalty=0), NO_TASK, ID)
    assert only["presence_penalty"] == 0 and "frequency_penalty" not in only
    assert not {"frequency_penalty", "presence_penalty"} & set(to_llamacpp_request(request(), NO_TASK, ID))
