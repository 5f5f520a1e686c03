"""Settings of the ``azureopenai`` service; task settings are ``openai``'s."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from inference_service.providers.schema import (
    CHECK_MARKER,
    DESTINATION_MARKER,
    EmbeddingSettings,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def check_resource_name(value: Any) -> list[str]:
    """``resource_name`` becomes the host ``<resource_name>.openai.azure.com``: it must be one DNS
    label (letters, digits, hyphens), so it cannot name another host or smuggle in a path."""
    if isinstance(value, str) and value and not _LABEL.match(value):
        return [
            f"[service_settings] Invalid value [{value}] for setting [resource_name]: an Azure resource "
            "name is one DNS label of letters, digits and hyphens (it becomes the host "
            "<resource_name>.openai.azure.com)"
        ]
    return []


ResourceName = Annotated[
    str, msgspec.Meta(extra={DESTINATION_MARKER: True, CHECK_MARKER: check_resource_name})
]


class AzureOpenAiServiceSettings(ServiceSettings, kw_only=True):
    resource_name: ResourceName
    deployment_id: str
    api_version: str
    rate_limit: RateLimit | None = None
    url: Url | None = None
    """Not in Elasticsearch: a base URL replacing ``https://<resource_name>.openai.azure.com``."""


class AzureOpenAiEmbeddingServiceSettings(EmbeddingSettings, kw_only=True):
    """``service_settings`` for text_embedding endpoints: the deployment names the model;
    ``dimensions`` is sent only when the user chose it."""

    resource_name: ResourceName
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
