"""Settings of the ``mistral`` service. Note: ``model``, not ``model_id``."""

from __future__ import annotations

from inference_service.providers.schema import PositiveInt, RateLimit, SettingsStruct, Url


class MistralServiceSettings(SettingsStruct):
    model: str
    max_input_tokens: PositiveInt | None = None
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: overrides the Mistral API URL (a proxy, a private deployment)."""
