"""The ``hugging_face`` service for chat: an OpenAI-compatible ``/v1/chat/completions`` URL."""

from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig
from inference_service.providers.hugging_face.settings import HuggingFaceChatServiceSettings
from inference_service.providers.openai.provider import OpenAiCompatibleProvider
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec


class HuggingFaceProvider(OpenAiCompatibleProvider):
    service = "hugging_face"
    max_tokens_field = "max_tokens"

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(HuggingFaceChatServiceSettings).url

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(HuggingFaceChatServiceSettings).model_id


PROVIDER = ProviderSpec(
    name="hugging_face",
    provider=HuggingFaceProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: HuggingFaceChatServiceSettings,
        TaskType.COMPLETION: HuggingFaceChatServiceSettings,
    },
    secrets=ApiKeySecrets,
    default_rate_limit={TaskType.CHAT_COMPLETION: 3000, TaskType.COMPLETION: 3000},
)
