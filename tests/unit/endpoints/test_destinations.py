"""A stored secret cannot be moved: an ``_update`` that changes where the calls go must send the
secrets again (inference_service.endpoints.destinations, applied by ``rules.merge_update``)."""

from __future__ import annotations

from typing import Any

import pytest

from inference_service.endpoints.rules import build_endpoint, merge_update
from inference_service.errors import InvalidRequestError
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.registry import ProviderRegistry, builtin_registry

REGISTRY: ProviderRegistry = builtin_registry()
URL = "https://proxy.test/v1"
ELSEWHERE = "https://attacker.test/v1"

CUSTOM = {
    "url": "https://models.test/v1/complete?model=${model}",
    "headers": {"Authorization": "Bearer ${api_key}"},
    "request": '{"prompt": ${input}}',
    "response": {"json_parser": {"completion_result": "$.text"}},
    "secret_parameters": {"api_key": "sk-custom"},
}

# provider, task type, PUT service_settings (secrets inside), the secret names to send again
FAMILIES: list[tuple[str, TaskType, dict[str, Any], list[str]]] = [
    ("openai", TaskType.CHAT_COMPLETION, {"model_id": "m", "api_key": "sk-1", "url": URL}, ["api_key"]),
    ("mistral", TaskType.TEXT_EMBEDDING, {"model": "m", "api_key": "sk-1", "url": URL}, ["api_key"]),
    ("deepseek", TaskType.CHAT_COMPLETION, {"model_id": "m", "api_key": "sk-1", "url": URL}, ["api_key"]),
    ("anthropic", TaskType.COMPLETION, {"model_id": "m", "api_key": "sk-1", "url": URL}, ["api_key"]),
    ("hugging_face", TaskType.TEXT_EMBEDDING, {"api_key": "hf-1", "url": URL}, ["api_key"]),
    ("cohere", TaskType.RERANK, {"model_id": "m", "api_key": "co-1", "url": URL}, ["api_key"]),
    ("jinaai", TaskType.RERANK, {"model_id": "m", "api_key": "j-1", "url": URL}, ["api_key"]),
    ("voyageai", TaskType.RERANK, {"model_id": "m", "api_key": "v-1", "url": URL}, ["api_key"]),
    ("googleaistudio", TaskType.TEXT_EMBEDDING, {"model_id": "m", "api_key": "g-1", "url": URL}, ["api_key"]),
    (
        "azureopenai",
        TaskType.CHAT_COMPLETION,
        {
            "resource_name": "res",
            "deployment_id": "d",
            "api_version": "2024-10-21",
            "api_key": "az-1",
            "url": URL,
        },
        ["api_key"],
    ),
    ("custom", TaskType.COMPLETION, CUSTOM, ["secret_parameters"]),
]


TASK: dict[str, dict[str, Any]] = {"custom": {"parameters": {"model": "m"}}, "anthropic": {"max_tokens": 10}}


def stored(
    service: str, task_type: TaskType, settings: dict[str, Any], task: dict[str, Any] | None = None
) -> Endpoint:
    body: dict[str, Any] = {"service": service, "service_settings": settings}
    if task is not None:
        body["task_settings"] = task
    return build_endpoint(REGISTRY, "ep", task_type, body)


def refusal(moved: str, missing: list[str]) -> str:
    return (
        f"Validation Failed: 1: [service_settings] changing [{moved}] changes where the endpoint's secrets "
        f"are sent, so the secrets must be sent again in the same request: [{', '.join(missing)}];"
    )


@pytest.mark.parametrize(
    ("service", "task_type", "settings", "secrets"), FAMILIES, ids=[f[0] for f in FAMILIES]
)
def test_moving_the_url_without_the_secrets_is_refused(
    service: str, task_type: TaskType, settings: dict[str, Any], secrets: list[str]
) -> None:
    current = stored(service, task_type, settings, TASK.get(service))
    with pytest.raises(InvalidRequestError) as caught:
        merge_update(REGISTRY, current, {"service_settings": {"url": ELSEWHERE}})
    assert caught.value.reason == refusal("url", secrets)


@pytest.mark.parametrize(
    ("service", "task_type", "settings", "secrets"), FAMILIES, ids=[f[0] for f in FAMILIES]
)
def test_moving_the_url_with_the_secrets_sent_again_is_accepted(
    service: str, task_type: TaskType, settings: dict[str, Any], secrets: list[str]
) -> None:
    current = stored(service, task_type, settings, TASK.get(service))
    again = {name: settings[name] for name in secrets}
    updated = merge_update(REGISTRY, current, {"service_settings": {"url": ELSEWHERE, **again}})
    assert updated.service_settings["url"] == ELSEWHERE
    assert updated.secrets == current.secrets


def test_other_changes_need_no_secrets() -> None:
    current = stored("openai", TaskType.CHAT_COMPLETION, {"model_id": "m", "api_key": "sk-1", "url": URL})
    same_url = merge_update(REGISTRY, current, {"service_settings": {"url": URL, "model_id": "m2"}})
    assert same_url.service_settings["model_id"] == "m2" and same_url.secrets == {"api_key": "sk-1"}
    rate = merge_update(REGISTRY, current, {"service_settings": {"rate_limit": {"requests_per_minute": 5}}})
    assert rate.secrets == {"api_key": "sk-1"}
    task = merge_update(REGISTRY, current, {"task_settings": {"user": "u"}})
    assert task.task_settings == {"user": "u"}


def test_setting_a_url_where_there_was_none_moves_the_secret() -> None:
    """From the provider's default URL to one of the user's: a move too."""
    current = stored("openai", TaskType.CHAT_COMPLETION, {"model_id": "m", "api_key": "sk-1"})
    with pytest.raises(InvalidRequestError) as caught:
        merge_update(REGISTRY, current, {"service_settings": {"url": ELSEWHERE}})
    assert caught.value.reason == refusal("url", ["api_key"])


def test_azure_resource_name_moves_the_secret() -> None:
    settings = {"resource_name": "res", "deployment_id": "d", "api_version": "2024-10-21", "entra_id": "tok"}
    current = stored("azureopenai", TaskType.CHAT_COMPLETION, settings)
    with pytest.raises(InvalidRequestError) as caught:
        merge_update(REGISTRY, current, {"service_settings": {"resource_name": "other"}})
    assert caught.value.reason == refusal("resource_name", ["entra_id"])
    moved = merge_update(
        REGISTRY, current, {"service_settings": {"resource_name": "other", "entra_id": "tok2"}}
    )
    assert moved.secrets == {"entra_id": "tok2"}
    deployment = merge_update(REGISTRY, current, {"service_settings": {"deployment_id": "d2"}})  # same host
    assert deployment.secrets == {"entra_id": "tok"}


@pytest.mark.parametrize(
    ("change", "moved"),
    [
        ({"headers": {"Authorization": "Bearer ${api_key}", "X-Copy": "${api_key}"}}, "headers"),
        ({"query_parameters": [["leak", "${api_key}"]]}, "query_parameters"),
        ({"request": '{"prompt": ${input}, "echo": ${api_key}}'}, "request"),
    ],
)
def test_custom_templates_move_the_secret(change: dict[str, Any], moved: str) -> None:
    current = stored("custom", TaskType.COMPLETION, CUSTOM, {"parameters": {"model": "m"}})
    with pytest.raises(InvalidRequestError) as caught:
        merge_update(REGISTRY, current, {"service_settings": change})
    assert caught.value.reason == refusal(moved, ["secret_parameters"])
    again = merge_update(
        REGISTRY, current, {"service_settings": {**change, "secret_parameters": {"api_key": "k"}}}
    )
    assert again.secrets == {"secret_parameters": {"api_key": "k"}}


def test_custom_task_parameters_that_fill_the_host_move_the_secret() -> None:
    settings = {**CUSTOM, "url": "https://${host}/v1/complete"}
    current = stored("custom", TaskType.COMPLETION, settings, {"parameters": {"host": "models.test"}})
    with pytest.raises(InvalidRequestError) as caught:
        merge_update(REGISTRY, current, {"task_settings": {"parameters": {"host": "attacker.test"}}})
    assert caught.value.reason == refusal("url", ["secret_parameters"])
    # A parameter that fills only the path or query stays with the same host.
    path = {**CUSTOM, "url": "https://models.test/v1/${model}"}
    current = stored("custom", TaskType.COMPLETION, path, {"parameters": {"model": "a"}})
    updated = merge_update(REGISTRY, current, {"task_settings": {"parameters": {"model": "b"}}})
    assert updated.task_settings == {"parameters": {"model": "b"}}


def test_endpoints_without_secrets_move_freely() -> None:
    current = stored("llamacpp", TaskType.CHAT_COMPLETION, {})
    assert merge_update(REGISTRY, current, {"service_settings": {"threads": 1}}).secrets == {}
