"""Settings of the ``openai`` service, with Elasticsearch's names (reference §6)."""

from __future__ import annotations

from typing import Literal

from inference_service.providers.schema import PositiveInt, RateLimit, SettingsStruct, Url


class OpenAiServiceSettings(SettingsStruct):
    """``service_settings`` for completion and chat_completion endpoints."""

    model_id: str
    url: Url | None = None
    organization_id: str | None = None
    rate_limit: RateLimit | None = None


class OpenAiEmbeddingServiceSettings(OpenAiServiceSettings):
    """``service_settings`` for text_embedding endpoints."""

    dimensions: PositiveInt | None = None
    max_input_tokens: PositiveInt | None = None
    similarity: Literal["cosine", "dot_product", "l2_norm"] | None = None


class OpenAiTaskSettings(SettingsStruct):
    """``task_settings``: the end-user id sent upstream, and extra request headers."""

    user: str | None = None
    headers: dict[str, str] | None = None


class OpenAiSecrets(SettingsStruct):
    api_key: str
