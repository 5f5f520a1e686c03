"""``frequency_penalty`` and ``presence_penalty`` end to end: the real ``openai`` SDK on
``/v1/chat/completions`` and ``/v1/completions``, and raw HTTP on the Elasticsearch face,
against the wire-faithful fakes of every provider with a chat API. Each provider passes them on
or answers 400 naming the field; 0 is taken everywhere.

The local model's side (llama.cpp's sampler) is in test_local_model.py.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes import anthropic as fake_anthropic
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, migrated_service

pytestmark = pytest.mark.usefixtures("fresh_upstream")

HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Name three colours."}]
_ids = itertools.count()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("penalties"), sse_bom=False) as running:
        yield running


@pytest.fixture(scope="module")
def client(svc: RunningService) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=svc.url + "/v1", api_key="unused", max_retries=0) as sdk:
        yield sdk


def put(svc: RunningService, task_type: str, service: str, settings: dict[str, Any], **task: Any) -> str:
    inference_id = f"{service}-{next(_ids)}"
    body = {"service": service, "service_settings": settings, "task_settings": task}
    created = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}?validate=false", json=body)
    assert created.status_code == 200, created.text
    return inference_id


def openai_family(svc: RunningService, upstream: FakeProvider, service: str) -> str:
    """A chat endpoint of ``service`` whose upstream is the fake."""
    chat_url = upstream.url + "/v1/chat/completions"
    settings = {
        "openai": {"api_key": "sk", "model_id": "gpt-4o-mini", "url": chat_url},
        "azureopenai": {
            "api_key": "az",
            "resource_name": "my-resource",
            "deployment_id": "gpt4o-prod",
            "api_version": "2024-10-21",
            "url": upstream.url,
        },
        "mistral": {"api_key": "mk", "model": "mistral-small-latest", "url": chat_url},
        "deepseek": {"api_key": "dk", "model_id": "deepseek-chat", "url": chat_url},
        "hugging_face": {"api_key": "hk", "model_id": "tgi", "url": chat_url},
    }[service]
    return put(svc, "chat_completion", service, settings)


def claude(svc: RunningService, upstream: FakeProvider) -> str:
    settings = {"api_key": "sk-ant", "model_id": "claude-sonnet-4-5", "url": upstream.url}
    return put(svc, "chat_completion", "anthropic", settings, max_tokens=256)


def penalty(field: str, value: float) -> dict[str, Any]:
    """``field=value`` as keyword arguments for the SDK."""
    return {field: value}


FAMILY = ["openai", "azureopenai", "mistral", "deepseek", "hugging_face"]


@pytest.mark.parametrize("service", FAMILY)
def test_the_openai_family_gets_both_penalties_from_the_sdk(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI, service: str
) -> None:
    model = openai_family(svc, upstream, service)
    upstream.enqueue(Reply.sse(fake_openai.stream(["red, ", "green, blue"])))
    answer = client.chat.completions.create(
        model=model, messages=HI, frequency_penalty=0.8, presence_penalty=-1.5
    )
    assert answer.choices[0].message.content == "red, green, blue"
    sent = upstream.last_request.json
    assert (sent["frequency_penalty"], sent["presence_penalty"]) == (0.8, -1.5)


def test_penalties_reach_the_provider_when_streaming_too(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    model = openai_family(svc, upstream, "mistral")
    upstream.enqueue(Reply.sse(fake_openai.stream(["red"])))
    chunks = client.chat.completions.create(model=model, messages=HI, presence_penalty=2, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "red"
    sent = upstream.last_request.json
    assert sent["presence_penalty"] == 2 and "frequency_penalty" not in sent
    assert "random_seed" not in sent  # Mistral's own names only where they differ


def test_legacy_completions_pass_the_penalties_on(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    settings = {"api_key": "sk", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    model = put(svc, "completion", "openai", settings)
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])))
    answer = client.completions.create(
        model=model, prompt="Say ok", frequency_penalty=1.25, presence_penalty=0
    )
    assert answer.choices[0].text == "ok"
    sent = upstream.last_request.json
    assert (sent["frequency_penalty"], sent["presence_penalty"]) == (1.25, 0)


def test_the_es_face_takes_the_penalties_as_an_extension(svc: RunningService, upstream: FakeProvider) -> None:
    model = openai_family(svc, upstream, "deepseek")
    upstream.enqueue(Reply.sse(fake_openai.stream(["ok"])))
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{model}/_stream",
        json={"messages": HI, "frequency_penalty": -0.25, "presence_penalty": 0.5},
    )
    assert response.status_code == 200, response.text
    assert response.text.endswith("data: [DONE]\n\n")
    sent = upstream.last_request.json
    assert (sent["frequency_penalty"], sent["presence_penalty"]) == (-0.25, 0.5)


@pytest.mark.parametrize(("field", "value"), [("frequency_penalty", 2.5), ("presence_penalty", -2.01)])
def test_out_of_range_is_a_400_on_both_faces(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI, field: str, value: float
) -> None:
    model = openai_family(svc, upstream, "openai")
    with pytest.raises(openai.BadRequestError) as sdk:
        client.chat.completions.create(model=model, messages=HI, **penalty(field, value))
    assert sdk.value.param == f"$.{field}" and field in sdk.value.message
    with pytest.raises(openai.BadRequestError) as legacy:
        client.completions.create(model=model, prompt="x", **penalty(field, value))
    assert legacy.value.param == f"$.{field}"
    es = httpx.post(
        f"{svc.url}/_inference/chat_completion/{model}/_stream", json={"messages": HI, field: value}
    )
    assert es.status_code == 400, es.text
    assert es.text.startswith("event: error\ndata: ")  # the chat path's one error frame
    error = json.loads(es.text.removeprefix("event: error\ndata: "))["error"]
    assert (error["type"], error["param"]) == ("x_content_parse_exception", f"$.{field}")
    assert error["message"].startswith("[UnifiedCompletionRequest] Expected `float` ")
    assert upstream.requests == []


@pytest.mark.parametrize("field", ["frequency_penalty", "presence_penalty"])
def test_anthropic_refuses_a_penalty_on_both_faces(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI, field: str
) -> None:
    model = claude(svc, upstream)
    with pytest.raises(openai.BadRequestError) as sdk:
        client.chat.completions.create(model=model, messages=HI, **penalty(field, 0.5))
    assert sdk.value.param == field
    assert f"- [{field}] is not supported by the [anthropic] service (got [0.5]" in sdk.value.message
    es = httpx.post(f"{svc.url}/_inference/chat_completion/{model}/_stream", json={"messages": HI, field: -1})
    assert es.status_code == 400, es.text
    assert f"[{field}] is not supported by the [anthropic] service" in es.text
    assert upstream.requests == []


def test_zero_is_taken_everywhere(svc: RunningService, upstream: FakeProvider, client: openai.OpenAI) -> None:
    """A client that sends every default: 0 asks for nothing, so a provider without penalties
    serves it (and sends none), and one with them gets the 0 as sent."""
    model = claude(svc, upstream)
    upstream.enqueue(fake_anthropic.stream_reply(["fine"]))
    answer = client.chat.completions.create(
        model=model, messages=HI, frequency_penalty=0, presence_penalty=0.0
    )
    assert answer.choices[0].message.content == "fine"
    assert not {"frequency_penalty", "presence_penalty"} & set(upstream.last_request.json)
    gpt = openai_family(svc, upstream, "openai")
    upstream.enqueue(Reply.sse(fake_openai.stream(["fine"])))
    client.chat.completions.create(model=gpt, messages=HI, frequency_penalty=0, presence_penalty=0)
    sent = upstream.last_request.json
    assert (sent["frequency_penalty"], sent["presence_penalty"]) == (0, 0)


def test_a_custom_completion_refuses_a_penalty_but_takes_zero(
    svc: RunningService, upstream: FakeProvider, client: openai.OpenAI
) -> None:
    settings = {
        "url": upstream.url + "/v1/chat/completions",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "secret_parameters": {"api_key": "sk-custom"},
        "request": '{"model": "m", "messages": [{"role": "user", "content": ${input}}]}',
        "response": {"json_parser": {"completion_result": "$.choices[*].message.content"}},
    }
    model = put(svc, "completion", "custom", settings)
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model=model, prompt="x", presence_penalty=1)
    assert refused.value.param == "presence_penalty"
    assert "[custom] service" in refused.value.message
    assert upstream.requests == []
    upstream.enqueue(fake_openai.completion_reply("ok"))
    answer = client.completions.create(model=model, prompt="x", presence_penalty=0, frequency_penalty=0)
    assert answer.choices[0].text == "ok"
    assert upstream.last_request.json == {"model": "m", "messages": [{"role": "user", "content": "x"}]}
