"""The ``azureopenai`` service: Azure OpenAI deployments, ``api-key`` or Entra ID auth."""

from urllib.parse import quote

from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.azureopenai.settings import (
    AzureOpenAiSecrets,
    AzureOpenAiServiceSettings,
    AzureOpenAiTaskSettings,
)
from inference_service.providers.openai.provider import OpenAiDialect, build
from inference_service.providers.spec import ProviderSpec


def chat_url(endpoint: Endpoint) -> str:
    """``<base>/openai/deployments/<deployment_id>/chat/completions?api-version=<api_version>``."""
    settings = endpoint.service_settings
    base = settings.get("url") or f"https://{quote(settings['resource_name'])}.openai.azure.com"
    deployment = quote(settings["deployment_id"], safe="")
    version = quote(settings["api_version"], safe="")
    return f"{base.rstrip('/')}/openai/deployments/{deployment}/chat/completions?api-version={version}"


def auth_headers(endpoint: Endpoint) -> dict[str, str]:
    if endpoint.secrets.get("api_key"):
        return {"api-key": endpoint.secrets["api_key"]}
    return {"authorization": f"Bearer {endpoint.secrets['entra_id']}"}


PROVIDER = ProviderSpec(
    name="azureopenai",
    build=build(OpenAiDialect(default_url=None, send_model=False, url=chat_url, auth=auth_headers)),
    service_settings={
        TaskType.CHAT_COMPLETION: AzureOpenAiServiceSettings,
        TaskType.COMPLETION: AzureOpenAiServiceSettings,
    },
    secrets=AzureOpenAiSecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: AzureOpenAiTaskSettings,
        TaskType.COMPLETION: AzureOpenAiTaskSettings,
    },
    default_rate_limit={TaskType.CHAT_COMPLETION: 120, TaskType.COMPLETION: 120},
)
