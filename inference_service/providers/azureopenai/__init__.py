"""The ``azureopenai`` service: Azure OpenAI deployments, ``api-key`` or Entra ID auth.

Chat and completion go to the deployment's ``chat/completions``, text_embedding to its
``embeddings`` (OpenAI's Embeddings format without ``model``: the deployment names it).
"""

from urllib.parse import quote

from inference_service.model.task_type import TaskType
from inference_service.providers.azureopenai.settings import (
    AzureOpenAiEmbeddingServiceSettings,
    AzureOpenAiSecrets,
    AzureOpenAiServiceSettings,
)
from inference_service.providers.base import EndpointConfig
from inference_service.providers.openai.provider import OpenAiEmbeddings
from inference_service.providers.openai.settings import OpenAiTaskSettings
from inference_service.providers.spec import ProviderSpec

EMBEDDING_MAX_BATCH_SIZE = 2048
"""Elasticsearch's batch for Azure embeddings (``OpenAiServiceFields.EMBEDDING_MAX_BATCH_SIZE``),
the inputs one Azure OpenAI embeddings request may carry."""


def deployment_url(
    settings: AzureOpenAiServiceSettings | AzureOpenAiEmbeddingServiceSettings, operation: str
) -> str:
    """``<base>/openai/deployments/<deployment_id>/<operation>?api-version=<api_version>``."""
    base = settings.url or f"https://{quote(settings.resource_name)}.openai.azure.com"
    deployment = quote(settings.deployment_id, safe="")
    version = quote(settings.api_version, safe="")
    return f"{base.rstrip('/')}/openai/deployments/{deployment}/{operation}?api-version={version}"


class AzureOpenAiProvider(OpenAiEmbeddings):
    service = "azureopenai"
    send_model = False  # the deployment in the URL names the model
    max_batch_size = EMBEDDING_MAX_BATCH_SIZE

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return deployment_url(endpoint.service(AzureOpenAiServiceSettings), "chat/completions")

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return None

    def embeddings_url(self, endpoint: EndpointConfig) -> str:
        return deployment_url(endpoint.service(AzureOpenAiEmbeddingServiceSettings), "embeddings")

    def embeddings_model(self, endpoint: EndpointConfig) -> str | None:
        return None

    def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        secrets = endpoint.secret(AzureOpenAiSecrets)
        if secrets.api_key:
            return {"api-key": secrets.api_key}
        return {"authorization": f"Bearer {secrets.entra_id}"}


PROVIDER = ProviderSpec(
    name="azureopenai",
    provider=AzureOpenAiProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: AzureOpenAiServiceSettings,
        TaskType.COMPLETION: AzureOpenAiServiceSettings,
        TaskType.TEXT_EMBEDDING: AzureOpenAiEmbeddingServiceSettings,
    },
    secrets=AzureOpenAiSecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: OpenAiTaskSettings,
        TaskType.COMPLETION: OpenAiTaskSettings,
        TaskType.TEXT_EMBEDDING: OpenAiTaskSettings,
    },
    default_rate_limit={
        TaskType.CHAT_COMPLETION: 120,
        TaskType.COMPLETION: 120,
        TaskType.TEXT_EMBEDDING: 1440,
    },
)
