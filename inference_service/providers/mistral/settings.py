"""Settings of the ``mistral`` service. Note: ``model``, not ``model_id``."""

from __future__ import annotations

from inference_service.providers.schema import (
    EmbeddingSettings,
    PositiveInt,
    RateLimit,
    ServiceSettings,
    Url,
)


class MistralServiceSettings(ServiceSettings, kw_only=True):
    model: str
    max_input_tokens: PositiveInt | None = None
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: overrides the Mistral API URL (a proxy, a private deployment)."""


class MistralEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    """``service_settings`` for text_embedding endpoints. ``dimensions`` is never sent (Mistral's
    embeddings take none, nor does Elasticsearch send any): it is checked against the vectors."""

    model: str
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: overrides the Mistral embeddings URL (a proxy, a private deployment)."""
