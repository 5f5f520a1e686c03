"""``_update`` of a stored endpoint (inference_service.endpoints.rules ``merge_update``)."""

from __future__ import annotations

from typing import Any

import pytest

from inference_service.endpoints.rules import merge_update
from inference_service.errors import BadRequestError, InvalidRequestError, ParseError
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.registry import ProviderRegistry, builtin_registry

REGISTRY: ProviderRegistry = builtin_registry()


def stored(
    service_settings: dict[str, Any] | None = None, task_settings: dict[str, Any] | None = None
) -> Endpoint:
    return Endpoint(
        inference_id="my-endpoint",
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings=service_settings
        or {"model_id": "gpt-4o-mini", "rate_limit": {"requests_per_minute": 500}},
        task_settings=task_settings or {"user": "old-user"},
        chunking_settings=None,
        secrets={"api_key": "sk-old"},
    )


def test_an_update_merges_over_the_stored_settings_and_secrets() -> None:
    updated = merge_update(
        REGISTRY,
        stored(),
        {"service_settings": {"api_key": "sk-new"}, "task_settings": {"user": "new-user"}},
    )
    assert updated == Endpoint(
        inference_id="my-endpoint",
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={"model_id": "gpt-4o-mini", "rate_limit": {"requests_per_minute": 500}},
        task_settings={"user": "new-user"},
        chunking_settings=None,
        secrets={"api_key": "sk-new"},
    )


def test_an_update_keeps_what_it_does_not_name() -> None:
    updated = merge_update(REGISTRY, stored(), {"task_settings": {"headers": {"x-team": "search"}}})
    assert updated.task_settings == {"user": "old-user", "headers": {"x-team": "search"}}
    assert updated.secrets == {"api_key": "sk-old"}


def test_an_update_is_validated_like_a_put() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        merge_update(REGISTRY, stored(), {"service_settings": {"model_id": ""}})
    assert caught.value.reason == (
        "Validation Failed: 1: [service_settings] Invalid value empty string. "
        "[model_id] must be a non-empty string;"
    )


def test_what_an_update_cannot_do() -> None:
    with pytest.raises(ParseError, match=r"^Request body is empty$"):
        merge_update(REGISTRY, stored(), {})
    with pytest.raises(BadRequestError) as caught:
        merge_update(REGISTRY, stored(), {"service": "anthropic"})
    assert caught.value.reason == (
        "Request contained fields which cannot be updated, remove these fields and try again "
        "[{service=anthropic}]"
    )


def test_an_endpoint_with_a_stored_key_this_version_dropped_can_still_be_updated() -> None:
    current = stored(
        service_settings={
            "model_id": "gpt-4o-mini",
            "rate_limit": {"requests_per_minute": 500},
            "dropped_setting": 1,
        }
    )
    updated = merge_update(REGISTRY, current, {"task_settings": {"user": "new-user"}})
    assert updated.task_settings == {"user": "new-user"}
    assert "dropped_setting" not in updated.service_settings
