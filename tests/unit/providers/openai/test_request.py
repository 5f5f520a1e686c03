"""Unified chat request -> OpenAI body (inference_service.providers.openai.request): one golden
case per documented deviation."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from inference_service.errors import UnsupportedError
from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.azureopenai import AzureOpenAiProvider
from inference_service.providers.deepseek import DeepSeekProvider
from inference_service.providers.hugging_face.provider import HuggingFaceProvider
from inference_service.providers.mistral import MistralProvider
from inference_service.providers.openai.provider import OpenAiProvider
from inference_service.providers.openai.request import OPENAI, Dialect, to_openai_request

USER = {"role": "user", "content": "hi"}
ALWAYS = {"n": 1, "stream": True, "stream_options": {"include_usage": True}}


def request(**fields: Any) -> ChatCompletionRequest:
    """A request decoded from JSON, as the API builds it."""
    body = {"messages": [USER], **fields}
    return msgspec.json.decode(json.dumps(body).encode(), type=ChatCompletionRequest)


def translate(req: ChatCompletionRequest, **options: Any) -> dict[str, Any]:
    options.setdefault("service", "openai")
    options.setdefault("model", "gpt-4o-mini")
    body = to_openai_request(req, **options)
    assert isinstance(body, bytes)
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def test_minimal_request_gets_n_stream_and_include_usage() -> None:
    body = to_openai_request(request(), service="openai", model="gpt-4o-mini")
    assert body == (
        b'{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini","n":1,"stream":true,'
        b'"stream_options":{"include_usage":true}}'
    )


def test_fixed_fields_accompany_the_client_fields() -> None:
    # ``stream``/``n`` are not request fields (decoding refuses them); the body always has them.
    body = translate(request(temperature=0.5))
    assert {k: body[k] for k in ALWAYS} == ALWAYS
    assert body["temperature"] == 0.5


def test_model_from_the_request_wins_over_the_endpoint() -> None:
    assert translate(request(model="gpt-4.1"), model="gpt-4o-mini")["model"] == "gpt-4.1"


def test_model_from_the_endpoint_when_the_request_has_none() -> None:
    assert translate(request(), model="gpt-4o-mini")["model"] == "gpt-4o-mini"


def test_no_model_anywhere_sends_none() -> None:
    assert "model" not in translate(request(), model=None)


def test_send_model_false_sends_no_model_even_from_the_request() -> None:
    body = translate(request(model="gpt-4.1"), model="gpt-4o-mini", send_model=False)
    assert "model" not in body
    assert body == {"messages": [USER], **ALWAYS}


def test_max_completion_tokens_is_kept_by_default() -> None:
    body = translate(request(max_completion_tokens=64))
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body


def test_max_completion_tokens_is_renamed_for_older_services() -> None:
    body = translate(request(max_completion_tokens=64), max_tokens_field="max_tokens")
    assert body["max_tokens"] == 64
    assert "max_completion_tokens" not in body


def test_rename_without_max_completion_tokens_adds_nothing() -> None:
    body = translate(request(), max_tokens_field="max_tokens")
    assert "max_tokens" not in body
    assert "max_completion_tokens" not in body


def test_task_settings_user_becomes_user() -> None:
    assert translate(request(), user="user-42")["user"] == "user-42"
    assert "user" not in translate(request(), user=None)
    assert "user" not in translate(request(), user="")


def test_reasoning_effort_becomes_reasoning_effort() -> None:
    body = translate(request(reasoning={"effort": "low"}))
    assert body["reasoning_effort"] == "low"
    assert "reasoning" not in body


@pytest.mark.parametrize(
    ("reasoning", "unsupported"),
    [
        ({"effort": "high", "summary": "auto"}, "['summary']"),
        ({"enabled": True}, "['enabled']"),
        ({"exclude": True, "summary": "concise", "effort": "low"}, "['exclude', 'summary']"),
    ],
)
def test_other_reasoning_fields_are_refused_with_param(reasoning: dict[str, Any], unsupported: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        translate(request(reasoning=reasoning), service="mistral")
    assert caught.value.reason == f"reasoning fields {unsupported} are not supported by the [mistral] service"
    assert caught.value.param == "reasoning"
    assert caught.value.status == 400


def test_an_empty_reasoning_object_is_dropped() -> None:
    body = translate(request(reasoning={}))
    assert "reasoning" not in body
    assert "reasoning_effort" not in body


def test_everything_else_passes_through_unchanged() -> None:
    tool_call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {"role": "assistant", "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": "c1", "content": "rain"},
    ]
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    req = msgspec.json.decode(
        json.dumps(
            {"messages": messages, "tools": tools, "tool_choice": "auto", "stop": ["END"], "top_p": 0.9}
        ).encode(),
        type=ChatCompletionRequest,
    )
    assert translate(req) == {
        "messages": messages,
        "tools": tools,
        "tool_choice": "auto",
        "stop": ["END"],
        "top_p": 0.9,
        "model": "gpt-4o-mini",
        **ALWAYS,
    }


# --- response_format, seed, parallel_tool_calls per dialect -----------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, "strict": True}}
TOOLS = [{"type": "function", "function": {"name": "f"}}]
DEEPSEEK = Dialect(
    response_formats=frozenset({"text", "json_object"}), seed_field=None, parallel_tool_calls=False
)
TGI = Dialect(tgi_grammar=True, parallel_tool_calls=False)


@pytest.mark.parametrize("fmt", [{"type": "text"}, {"type": "json_object"}, JSON_SCHEMA])
def test_openai_takes_every_response_format_as_it_is(fmt: dict[str, Any]) -> None:
    assert translate(request(response_format=fmt))["response_format"] == fmt


def test_openai_takes_seed_and_parallel_tool_calls() -> None:
    body = translate(request(seed=42, tools=TOOLS, parallel_tool_calls=False))
    assert body["seed"] == 42 and body["parallel_tool_calls"] is False


def test_the_providers_declare_their_dialects() -> None:
    assert OpenAiProvider.dialect == OPENAI and AzureOpenAiProvider.dialect == OPENAI
    assert MistralProvider.dialect == Dialect(seed_field="random_seed")
    assert DeepSeekProvider.dialect == DEEPSEEK
    assert HuggingFaceProvider.dialect == TGI


def test_mistral_names_the_seed_random_seed() -> None:
    body = translate(
        request(seed=7, response_format=JSON_SCHEMA, tools=TOOLS, parallel_tool_calls=True),
        service="mistral",
        dialect=MistralProvider.dialect,
    )
    assert body["random_seed"] == 7 and "seed" not in body
    assert body["response_format"] == JSON_SCHEMA and body["parallel_tool_calls"] is True


def test_a_format_the_service_lacks_is_a_400_naming_response_format() -> None:
    with pytest.raises(UnsupportedError) as caught:
        translate(request(response_format=JSON_SCHEMA), service="deepseek", dialect=DEEPSEEK)
    assert caught.value.param == "response_format"
    assert caught.value.reason == (
        "[response_format] type [json_schema] is not supported by the [deepseek] service; "
        "it takes [json_object, text]"
    )
    body = translate(request(response_format={"type": "json_object"}), service="deepseek", dialect=DEEPSEEK)
    assert body["response_format"] == {"type": "json_object"}


def test_no_seed_no_parallel_switch() -> None:
    with pytest.raises(UnsupportedError) as seed:
        translate(request(seed=1), service="deepseek", dialect=DEEPSEEK)
    assert (
        seed.value.param == "seed"
        and "[seed] is not supported by the [deepseek] service" in seed.value.reason
    )
    with pytest.raises(UnsupportedError) as serial:
        translate(request(tools=TOOLS, parallel_tool_calls=False), service="deepseek", dialect=DEEPSEEK)
    assert serial.value.param == "parallel_tool_calls"
    # true only allows what the service may do anyway: not sent, and not an error.
    body = translate(request(tools=TOOLS, parallel_tool_calls=True), service="deepseek", dialect=DEEPSEEK)
    assert "parallel_tool_calls" not in body


@pytest.mark.parametrize(
    ("fmt", "sent"),
    [
        (JSON_SCHEMA, {"type": "json", "value": SCHEMA}),
        ({"type": "json_object"}, {"type": "json", "value": {"type": "object"}}),
        (
            {"type": "json_schema", "json_schema": {"name": "any"}},
            {"type": "json", "value": {"type": "object"}},
        ),
        ({"type": "text"}, None),
    ],
)
def test_tgi_gets_its_grammar(fmt: dict[str, Any], sent: dict[str, Any] | None) -> None:
    body = translate(request(response_format=fmt, seed=3), service="hugging_face", dialect=TGI)
    assert body.get("response_format") == sent
    assert body["seed"] == 3


def test_a_request_without_the_fields_is_unchanged_by_the_dialect() -> None:
    plain = to_openai_request(request(), service="deepseek", model="m", dialect=DEEPSEEK)
    assert plain == to_openai_request(request(), service="openai", model="m")


# --- frequency_penalty, presence_penalty -----------------------------------------------------


@pytest.mark.parametrize(
    ("service", "dialect"),
    [
        ("openai", OPENAI),
        ("azureopenai", AzureOpenAiProvider.dialect),
        ("mistral", MistralProvider.dialect),
        ("deepseek", DeepSeekProvider.dialect),
        ("hugging_face", HuggingFaceProvider.dialect),
    ],
)
def test_every_service_of_the_family_takes_both_penalties_as_sent(service: str, dialect: Dialect) -> None:
    body = translate(request(frequency_penalty=0.5, presence_penalty=-1.25), service=service, dialect=dialect)
    assert body["frequency_penalty"] == 0.5 and body["presence_penalty"] == -1.25
    assert "frequency_penalty" not in translate(request(), service=service, dialect=dialect)


def test_the_neutral_penalty_goes_as_sent_and_the_range_ends_are_taken() -> None:
    body = translate(request(frequency_penalty=0, presence_penalty=2.0), service="deepseek", dialect=DEEPSEEK)
    assert body["frequency_penalty"] == 0 and body["presence_penalty"] == 2.0
    assert translate(request(frequency_penalty=-2))["frequency_penalty"] == -2
