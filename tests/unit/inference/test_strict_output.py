"""Strict ``json_schema`` answers checked against their schema
(inference_service.inference.strict_output)."""

from __future__ import annotations

import pytest

from inference_service.errors import StructuredOutputError
from inference_service.inference.strict_output import check_strict_output
from inference_service.model.chat import (
    AssistantReply,
    ChatCompletion,
    CompletionChoice,
    JsonSchema,
    ReplyFunction,
    ReplyToolCall,
)

ID = "my-chat"
SPEC = JsonSchema(
    name="city",
    schema={
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    },
    strict=True,
)


def answer(
    content: str | None,
    finish_reason: str = "stop",
    *,
    tool_calls: list[ReplyToolCall] | None = None,
    refusal: str | None = None,
) -> ChatCompletion:
    message = AssistantReply(role="assistant", content=content, tool_calls=tool_calls, refusal=refusal)
    choice = CompletionChoice(message=message, finish_reason=finish_reason, index=0)
    return ChatCompletion(id="x", choices=[choice], model="m", object="chat.completion")


def violation(
    content: str | None, spec: JsonSchema = SPEC, finish_reason: str = "stop"
) -> StructuredOutputError:
    with pytest.raises(StructuredOutputError) as caught:
        check_strict_output(answer(content, finish_reason), spec, ID)
    return caught.value


def test_a_matching_answer_passes() -> None:
    check_strict_output(answer('{"city": "Oslo", "population": 709000}'), SPEC, ID)


def test_a_violation_is_a_502_naming_its_path_and_message() -> None:
    error = violation('{"city": "Oslo", "population": "many"}')
    assert error.status == 502
    assert error.param == "response_format" and error.code == "response_format_violation"
    assert error.reason == (
        "The answer of [my-chat] does not match its strict [response_format] [city]: "
        "at [$.population]: 'many' is not of type 'integer'"
    )


def test_content_that_is_not_json() -> None:
    error = violation("Oslo has 709000 people.")
    assert "[city]: the content is not JSON: " in error.reason
    assert "cut off" not in error.reason
    assert "the content is not JSON" in violation(None).reason


def test_a_cut_off_answer_says_so() -> None:
    error = violation('{"city": "Os', finish_reason="length")
    assert "the content is not JSON (it was cut off: finish_reason [length])" in error.reason


def test_without_a_schema_only_json_is_required() -> None:
    loose = JsonSchema(name="anything", strict=True)
    check_strict_output(answer("[1, 2]"), loose, ID)
    assert "not JSON" in violation("nope", loose).reason


def test_deeply_nested_content_is_refused_before_validation() -> None:
    error = violation("[" * 100 + "]" * 100, JsonSchema(name="deep", schema={}, strict=True))
    assert "nests deeper than 64 levels" in error.reason


def test_tool_calls_and_refusals_are_not_content() -> None:
    call = ReplyToolCall(id="c", type="function", function=ReplyFunction(name="f", arguments="{}"))
    check_strict_output(answer(None, "tool_calls", tool_calls=[call]), SPEC, ID)
    check_strict_output(answer(None, refusal="I can't help with that."), SPEC, ID)
