"""Settings of the ``googleaistudio`` service (text_embedding), with Elasticsearch's names."""

from __future__ import annotations

from inference_service.providers.schema import EmbeddingSettings, RateLimit, Url


class GoogleAiStudioEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    """``service_settings`` for text_embedding endpoints; the secret is ``api_key``."""

    model_id: str
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: a base URL replacing ``https://generativelanguage.googleapis.com``
    (a proxy); ``/v1/models/{model_id}:batchEmbedContents`` is appended to it."""
