"""Structured output, ``seed``, ``parallel_tool_calls`` and image parts end to end: the real
``openai`` SDK (sync and async, ``create``, ``parse`` and ``stream``) and raw HTTP on the
Elasticsearch face, against the wire-faithful OpenAI and Anthropic fakes.

The local model's side (llama.cpp's grammar) is in test_local_model.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from tests.fakes import anthropic as fake_anthropic
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Facts about Oslo, please."}]
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
CITY_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    "json_schema": {"name": "city_facts", "schema": SCHEMA, "strict": True},
}
OSLO = '{"city": "Oslo", "population": 709000}'
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
"""A 1x1 PNG as a data URI."""


class CityFacts(pydantic.BaseModel):
    city: str
    population: int


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("structured"), sse_bom=False) as running:
        yield running


@pytest.fixture(scope="module")
def client(svc: RunningService) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk:
        yield sdk


def put(svc: RunningService, inference_id: str, service: str, settings: dict[str, Any], **task: Any) -> str:
    body = {"service": service, "service_settings": settings, "task_settings": task}
    created = httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


@pytest.fixture(scope="module")
def gpt(svc: RunningService, upstream: FakeProvider) -> str:
    url = upstream.url + "/v1/chat/completions"
    return put(svc, "gpt", "openai", {"api_key": "sk", "model_id": "gpt-4o-mini", "url": url})


@pytest.fixture(scope="module")
def claude(svc: RunningService, upstream: FakeProvider) -> str:
    settings = {"api_key": "sk-ant", "model_id": "claude-sonnet-4-5", "url": upstream.url}
    return put(svc, "claude", "anthropic", settings, max_tokens=256)


def openai_json(content: str) -> Reply:
    """An OpenAI stream whose content is ``content`` in three pieces."""
    third = max(1, len(content) // 3)
    return Reply.sse(fake_openai.stream([content[:third], content[third : 2 * third], content[2 * third :]]))


def claude_json(content: str, name: str = "city_facts") -> Reply:
    """Anthropic's answer to the forced tool: ``content`` as input_json_delta fragments."""
    return Reply.sse(fake_anthropic.forced_tool_stream(name, [content[:10], content[10:]]))


# --- the OpenAI family ----------------------------------------------------------------------


def test_json_schema_reaches_openai_as_sent(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    upstream.enqueue(openai_json(OSLO))
    answer = client.chat.completions.create(model=gpt, messages=HI, response_format=CITY_FORMAT)
    assert json.loads(answer.choices[0].message.content or "") == {"city": "Oslo", "population": 709000}
    assert upstream.last_request.json["response_format"] == CITY_FORMAT


def test_the_sdks_parse_gets_a_typed_answer(upstream: FakeProvider, client: openai.OpenAI, gpt: str) -> None:
    upstream.enqueue(openai_json(OSLO))
    parsed = client.chat.completions.parse(model=gpt, messages=HI, response_format=CityFacts)
    assert parsed.choices[0].message.parsed == CityFacts(city="Oslo", population=709000)
    sent = upstream.last_request.json["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "CityFacts"
    assert sent["json_schema"]["strict"] is True


def test_the_async_sdk_streams_structured_output(
    svc: RunningService, upstream: FakeProvider, gpt: str
) -> None:
    upstream.enqueue(openai_json(OSLO))

    async def run() -> CityFacts | None:
        async with openai.AsyncOpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk:
            async with sdk.chat.completions.stream(
                model=gpt, messages=HI, response_format=CityFacts
            ) as stream:
                final = await stream.get_final_completion()
            return final.choices[0].message.parsed

    assert asyncio.run(run()) == CityFacts(city="Oslo", population=709000)


def test_seed_and_parallel_tool_calls_reach_openai(
    upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    upstream.enqueue(openai_json("ok"))
    tool: ChatCompletionFunctionToolParam = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object"}},
    }
    client.chat.completions.create(
        model=gpt,
        messages=HI,
        seed=42,
        tools=[tool],
        parallel_tool_calls=False,
    )
    sent = upstream.last_request.json
    assert sent["seed"] == 42 and sent["parallel_tool_calls"] is False


def test_mistral_gets_random_seed(svc: RunningService, upstream: FakeProvider, client: openai.OpenAI) -> None:
    settings = {
        "api_key": "mk",
        "model": "mistral-small-latest",
        "url": upstream.url + "/v1/chat/completions",
    }
    model = put(svc, "mistral-structured", "mistral", settings)
    upstream.enqueue(openai_json(OSLO))
    client.chat.completions.create(model=model, messages=HI, seed=9, response_format=CITY_FORMAT)
    sent = upstream.last_request.json
    assert sent["random_seed"] == 9 and "seed" not in sent and sent["response_format"] == CITY_FORMAT


def test_a_provider_without_the_format_is_a_400(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    settings = {"api_key": "dk", "model_id": "deepseek-chat", "url": upstream.url + "/chat/completions"}
    model = put(svc, "deepseek-structured", "deepseek", settings)
    before = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=HI, response_format=CITY_FORMAT)
    assert refused.value.param == "response_format"
    assert "[json_schema] is not supported by the [deepseek] service" in refused.value.message
    with pytest.raises(openai.BadRequestError) as no_seed:
        client.chat.completions.create(model=model, messages=HI, seed=1)
    assert no_seed.value.param == "seed"
    assert len(upstream.requests) == before


def test_an_invalid_schema_is_a_400_on_both_faces(
    svc: RunningService, client: openai.OpenAI, gpt: str
) -> None:
    broken: ResponseFormatJSONSchema = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "objekt"}},
    }
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=gpt, messages=HI, response_format=broken)
    assert refused.value.param == "$.response_format.json_schema.schema"
    assert "is not a valid JSON Schema (draft 2020-12): at [$.type]" in refused.value.message
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{gpt}", json={"messages": HI, "response_format": broken}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "$.response_format.json_schema.schema"
    assert error["type"] == "action_request_validation_exception"


# --- strict validation ----------------------------------------------------------------------


def test_a_strict_answer_that_breaks_the_schema_is_a_502_on_both_faces(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    wrong = '{"city": "Oslo", "population": "many"}'
    upstream.enqueue(openai_json(wrong), openai_json(wrong))
    with pytest.raises(openai.InternalServerError) as broken:
        client.chat.completions.create(model=gpt, messages=HI, response_format=CITY_FORMAT)
    assert broken.value.status_code == 502
    assert broken.value.code == "response_format_violation"
    assert "at [$.population]: 'many' is not of type 'integer'" in broken.value.message
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{gpt}", json={"messages": HI, "response_format": CITY_FORMAT}
    )
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "response_format_violation" and error["param"] == "response_format"
    assert "does not match its strict [response_format] [city_facts]" in error["message"]


def test_without_strict_the_answer_is_not_checked(
    upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    loose: ResponseFormatJSONSchema = {
        "type": "json_schema",
        "json_schema": {"name": "city_facts", "schema": SCHEMA},
    }
    upstream.enqueue(openai_json("not json"))
    answer = client.chat.completions.create(model=gpt, messages=HI, response_format=loose)
    assert answer.choices[0].message.content == "not json"


def test_a_stream_cannot_be_checked_and_is_passed_on(
    upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    upstream.enqueue(openai_json("not json"))
    chunks = client.chat.completions.create(
        model=gpt,
        messages=HI,
        response_format=CITY_FORMAT,
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "not json"


def test_the_es_face_streams_with_response_format(
    svc: RunningService, upstream: FakeProvider, gpt: str
) -> None:
    upstream.enqueue(openai_json(OSLO))
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{gpt}/_stream",
        json={"messages": HI, "response_format": CITY_FORMAT, "seed": 5},
    )
    assert response.status_code == 200, response.text
    assert response.text.endswith("data: [DONE]\n\n")
    sent = upstream.last_request.json
    assert sent["response_format"] == CITY_FORMAT and sent["seed"] == 5


# --- Anthropic: the forced tool -------------------------------------------------------------


def test_anthropic_answers_json_schema_as_content(
    upstream: FakeProvider, client: openai.OpenAI, claude: str
) -> None:
    upstream.enqueue(claude_json(OSLO))
    answer = client.chat.completions.create(model=claude, messages=HI, response_format=CITY_FORMAT)
    choice = answer.choices[0]
    assert choice.message.content == OSLO and choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    sent = upstream.last_request.json
    assert sent["tools"] == [
        {"name": "city_facts", "description": sent["tools"][0]["description"], "input_schema": SCHEMA}
    ]
    assert sent["tool_choice"] == {"type": "tool", "name": "city_facts"}


def test_anthropic_streams_json_to_the_async_sdk(
    svc: RunningService, upstream: FakeProvider, claude: str
) -> None:
    upstream.enqueue(claude_json(OSLO, name="CityFacts"))

    async def run() -> tuple[CityFacts | None, str | None]:
        async with openai.AsyncOpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk:
            async with sdk.chat.completions.stream(
                model=claude, messages=HI, response_format=CityFacts
            ) as stream:
                final = await stream.get_final_completion()
            return final.choices[0].message.parsed, final.choices[0].finish_reason

    assert asyncio.run(run()) == (CityFacts(city="Oslo", population=709000), "stop")
    assert upstream.last_request.json["tool_choice"] == {"type": "tool", "name": "CityFacts"}


def test_anthropic_json_object(upstream: FakeProvider, client: openai.OpenAI, claude: str) -> None:
    upstream.enqueue(claude_json('{"any": ["thing"]}', name="json_object"))
    answer = client.chat.completions.create(
        model=claude, messages=HI, response_format={"type": "json_object"}
    )
    assert json.loads(answer.choices[0].message.content or "") == {"any": ["thing"]}
    assert upstream.last_request.json["tools"][0]["input_schema"] == {"type": "object"}


def test_anthropic_strict_violation_is_a_502(
    svc: RunningService, upstream: FakeProvider, claude: str
) -> None:
    upstream.enqueue(claude_json('{"city": "Oslo"}'))
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{claude}",
        json={"messages": HI, "response_format": CITY_FORMAT},
    )
    assert response.status_code == 502, response.text
    assert "at [$]: 'population' is a required property" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        (
            {"response_format": CITY_FORMAT, "tools": [{"type": "function", "function": {"name": "f"}}]},
            "response_format",
        ),
        ({"seed": 3}, "seed"),
        ({"reasoning_effort": "low"}, "reasoning_effort"),  # the name the client sent
        ({"user": "u-1"}, "user"),  # Anthropic's task settings take no user
    ],
)
def test_what_anthropic_cannot_honour_is_a_400(
    svc: RunningService, upstream: FakeProvider, claude: str, extra: dict[str, Any], param: str
) -> None:
    before = len(upstream.requests)
    response = httpx.post(f"{svc.url}/v1/chat/completions", json={"model": claude, "messages": HI, **extra})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert error["message"].startswith(f"[{param}] ") and "[anthropic] service" in error["message"]
    assert len(upstream.requests) == before


def test_parallel_tool_calls_false_reaches_anthropic(
    upstream: FakeProvider, client: openai.OpenAI, claude: str
) -> None:
    upstream.enqueue(Reply.sse(fake_anthropic.stream(["fine"])))
    tool: ChatCompletionFunctionToolParam = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object"}},
    }
    client.chat.completions.create(model=claude, messages=HI, tools=[tool], parallel_tool_calls=False)
    assert upstream.last_request.json["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


# --- image parts ----------------------------------------------------------------------------


def image_message(url: str) -> list[ChatCompletionMessageParam]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
            ],
        }
    ]


def test_an_image_part_reaches_openai_byte_identical(
    upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    upstream.enqueue(openai_json("A pixel."))
    answer = client.chat.completions.create(model=gpt, messages=image_message(PIXEL))
    assert answer.choices[0].message.content == "A pixel."
    part = {"type": "image_url", "image_url": {"url": PIXEL, "detail": "low"}}
    assert json.dumps(part, separators=(",", ":")).encode() in upstream.last_request.body
    assert upstream.last_request.json["messages"] == image_message(PIXEL)


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (PIXEL, {"type": "base64", "media_type": "image/png", "data": PIXEL.partition(",")[2]}),
        (
            "https://images.example.com/oslo.png",
            {"type": "url", "url": "https://images.example.com/oslo.png"},
        ),
    ],
)
def test_an_image_part_becomes_an_anthropic_image_block(
    upstream: FakeProvider, client: openai.OpenAI, claude: str, url: str, source: dict[str, str]
) -> None:
    upstream.enqueue(Reply.sse(fake_anthropic.stream(["A pixel."])))
    answer = client.chat.completions.create(model=claude, messages=image_message(url))
    assert answer.choices[0].message.content == "A pixel."
    (turn,) = upstream.last_request.json["messages"]
    assert turn["content"] == [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image", "source": source},
    ]


def test_an_image_url_that_is_not_https_or_base64_is_a_400_on_both_faces(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI, gpt: str
) -> None:
    before = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=gpt, messages=image_message("http://images.example.com/a.png"))
    assert refused.value.param == "$.messages[0].content[1].image_url.url"
    assert "must be an https URL or a base64 data URI, got scheme [http]" in refused.value.message
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{gpt}/_stream",
        json={"messages": image_message("file:///etc/passwd")},
    )
    assert response.status_code == 400
    assert '"param":"$.messages[0].content[1].image_url.url"' in response.text
    assert len(upstream.requests) == before
