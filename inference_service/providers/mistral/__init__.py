"""The ``mistral`` service: Mistral's OpenAI-compatible chat API (``model``, ``max_tokens``)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig
from inference_service.providers.mistral.settings import MistralServiceSettings
from inference_service.providers.openai.provider import OpenAiCompatibleProvider
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

CHAT_URL = "https://api.mistral.ai/v1/chat/completions"


class MistralProvider(OpenAiCompatibleProvider):
    service = "mistral"
    max_tokens_field = "max_tokens"

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(MistralServiceSettings).url or CHAT_URL

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(MistralServiceSettings).model


PROVIDER = ProviderSpec(
    name="mistral",
    provider=MistralProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: MistralServiceSettings,
        TaskType.COMPLETION: MistralServiceSettings,
    },
    secrets=ApiKeySecrets,
    default_rate_limit={TaskType.CHAT_COMPLETION: 240, TaskType.COMPLETION: 240},
)
