"""Settings of the ``openai`` service, with Elasticsearch's names."""

from __future__ import annotations

from inference_service.providers.schema import (
    EmbeddingSettings,
    HeaderMap,
    HeaderValue,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)


class OpenAiServiceSettings(ServiceSettings, kw_only=True):
    """``service_settings`` for completion and chat_completion endpoints."""

    model_id: str
    url: Url | None = None
    organization_id: HeaderValue | None = None
    rate_limit: RateLimit | None = None


class OpenAiEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    """``service_settings`` for text_embedding endpoints (``url``: the embeddings URL)."""

    model_id: str
    url: Url | None = None
    organization_id: HeaderValue | None = None
    rate_limit: RateLimit | None = None


class OpenAiTaskSettings(SettingsStruct):
    """``task_settings`` (``openai``, ``azureopenai``): the end-user id sent upstream, and extra
    request headers."""

    user: str | None = None
    headers: HeaderMap | None = None
