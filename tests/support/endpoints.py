"""A resolved OpenAI chat endpoint built without a catalog or an HTTP client, for unit tests of
what wraps provider calls (its provider must never be called)."""

from __future__ import annotations

from typing import Any

from inference_service.cache.policy import policy_for
from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers import openai
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.openai.settings import OpenAiServiceSettings
from inference_service.providers.schema import ApiKeySecrets, NoTaskSettings


class NoProvider(Provider):
    """A provider that was never given a client: any call fails the test."""

    def __init__(self) -> None:
        pass


def chat_endpoint(inference_id: str = "ep", cache: dict[str, Any] | None = None) -> ResolvedEndpoint:
    endpoint = Endpoint(
        inference_id=inference_id,
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={"model_id": "m"},
        task_settings={},
        chunking_settings=None,
        cache=cache,
    )
    config = EndpointConfig(
        inference_id=inference_id,
        task_type=TaskType.CHAT_COMPLETION,
        service_settings=OpenAiServiceSettings(model_id="m"),
        task_settings=NoTaskSettings(),
        secrets=ApiKeySecrets(api_key="k"),
    )
    return ResolvedEndpoint(endpoint, openai.PROVIDER, config, NoProvider(), policy_for(endpoint))
