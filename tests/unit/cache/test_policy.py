"""The cache object and the cache key (inference_service.cache.policy)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from inference_service.cache.policy import parse_cache, policy_for
from inference_service.errors import InvalidRequestError
from inference_service.model.chat import ChatCompletionRequest, FunctionDefinition, Tool, UserMessage
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig
from inference_service.providers.openai.settings import OpenAiServiceSettings
from inference_service.providers.schema import ApiKeySecrets, NoTaskSettings


def endpoint(**changes: Any) -> Endpoint:
    base = Endpoint(
        inference_id="ep",
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={"model_id": "m", "rate_limit": {"requests_per_minute": 500}},
        task_settings={},
        chunking_settings=None,
        cache={"ttl": "10m"},
        secrets={"api_key": "k"},
    )
    return msgspec.structs.replace(base, **changes)


CONFIG = EndpointConfig(
    inference_id="ep",
    task_type=TaskType.CHAT_COMPLETION,
    service_settings=OpenAiServiceSettings(model_id="m"),
    task_settings=NoTaskSettings(),
    secrets=ApiKeySecrets(api_key="k"),
)


def chat(text: str = "Hi", **fields: Any) -> ChatCompletionRequest:
    return ChatCompletionRequest(messages=[UserMessage(content=text)], **fields)


def key(ep: Endpoint, request: ChatCompletionRequest) -> str:
    policy = policy_for(ep)
    assert policy is not None
    return policy.key(CONFIG, request)


def test_parse_keeps_a_valid_object_and_none() -> None:
    assert parse_cache({"ttl": "90s"}) == {"ttl": "90s"}
    assert parse_cache(None) is None


def test_parse_lists_every_problem_in_one_400() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_cache({"size": 3, "lru": True})
    reason = caught.value.reason
    assert "1: [cache] unknown setting [size]" in reason and "2: [cache] unknown setting [lru]" in reason
    assert "3: [cache] does not contain the required setting [ttl]" in reason


def test_the_ttl_and_the_key() -> None:
    policy = policy_for(endpoint())
    assert policy is not None and policy.ttl_s == 600
    assert policy_for(endpoint(cache=None)) is None
    assert key(endpoint(), chat()) == key(endpoint(), chat())
    assert len(key(endpoint(), chat())) == 64


@pytest.mark.parametrize(
    "changes",
    [
        {"inference_id": "other"},
        {"service_settings": {"model_id": "n", "rate_limit": {"requests_per_minute": 500}}},
        {"task_settings": {"user": "u"}},
        {"secrets": {"api_key": "rotated"}},
        {"cache": {"ttl": "1h"}},
        {"task_type": TaskType.COMPLETION},
    ],
)
def test_any_change_to_the_definition_changes_every_key(changes: dict[str, Any]) -> None:
    assert key(endpoint(**changes), chat()) != key(endpoint(), chat())


def test_the_request_is_part_of_the_key_but_not_the_order_of_its_maps() -> None:
    assert key(endpoint(), chat("Hi")) != key(endpoint(), chat("Ho"))
    assert key(endpoint(), chat(temperature=0.5)) != key(endpoint(), chat())

    def with_tool(parameters: dict[str, Any]) -> ChatCompletionRequest:
        function = FunctionDefinition(name="f", parameters=parameters)
        return chat(tools=[Tool(type="function", function=function)])

    one = with_tool({"type": "object", "properties": {"a": {"type": "string"}}})
    same = with_tool({"properties": {"a": {"type": "string"}}, "type": "object"})
    assert key(endpoint(), one) == key(endpoint(), same)
    assert key(endpoint(), one) != key(endpoint(), with_tool({"type": "object"}))


def test_the_service_settings_order_does_not_matter() -> None:
    reordered = endpoint(service_settings={"rate_limit": {"requests_per_minute": 500}, "model_id": "m"})
    assert key(reordered, chat()) == key(endpoint(), chat())
