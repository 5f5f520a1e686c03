"""The ``azureopenai`` service: Azure OpenAI deployments, ``api-key`` or Entra ID auth."""

from urllib.parse import quote

from inference_service.model.task_type import TaskType
from inference_service.providers.azureopenai.settings import AzureOpenAiSecrets, AzureOpenAiServiceSettings
from inference_service.providers.base import EndpointConfig
from inference_service.providers.openai.provider import OpenAiCompatibleProvider
from inference_service.providers.openai.settings import OpenAiTaskSettings
from inference_service.providers.spec import ProviderSpec


class AzureOpenAiProvider(OpenAiCompatibleProvider):
    service = "azureopenai"
    send_model = False  # the deployment in the URL names the model

    def chat_url(self, endpoint: EndpointConfig) -> str:
        """``<base>/openai/deployments/<deployment_id>/chat/completions?api-version=<api_version>``."""
        settings = endpoint.service(AzureOpenAiServiceSettings)
        base = settings.url or f"https://{quote(settings.resource_name)}.openai.azure.com"
        deployment = quote(settings.deployment_id, safe="")
        version = quote(settings.api_version, safe="")
        return f"{base.rstrip('/')}/openai/deployments/{deployment}/chat/completions?api-version={version}"

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
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
    },
    secrets=AzureOpenAiSecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: OpenAiTaskSettings,
        TaskType.COMPLETION: OpenAiTaskSettings,
    },
    default_rate_limit={TaskType.CHAT_COMPLETION: 120, TaskType.COMPLETION: 120},
)
