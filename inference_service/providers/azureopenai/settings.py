"""Settings of the ``azureopenai`` service; task settings are ``openai``'s."""

from __future__ import annotations

from inference_service.providers.schema import EmbeddingSettings, RateLimit, SettingsStruct, Url


class AzureOpenAiServiceSettings(SettingsStruct):
    resource_name: str
    deployment_id: str
    api_version: str
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: a base URL replacing ``https://<resource_name>.openai.azure.com``."""


class AzureOpenAiEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    """``service_settings`` for text_embedding endpoints: the deployment names the model;
    ``dimensions`` is sent only when the user chose it."""

    resource_name: str
    deployment_id: str
    api_version: str
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: a base URL replacing ``https://<resource_name>.openai.azure.com``."""


class AzureOpenAiSecrets(SettingsStruct):
    """Exactly one of ``api_key`` (sent as ``api-key``) or ``entra_id`` (a bearer token)."""

    api_key: str | None = None
    entra_id: str | None = None

    def __post_init__(self) -> None:
        if (self.api_key is None) == (self.entra_id is None):
            raise ValueError("exactly one of [api_key] or [entra_id] must be provided")
