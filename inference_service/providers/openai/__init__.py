"""The ``openai`` service: the OpenAI API and any OpenAI-compatible server (via ``url``)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.openai.provider import OpenAiProvider
from inference_service.providers.openai.settings import (
    OpenAiEmbeddingServiceSettings,
    OpenAiServiceSettings,
    OpenAiTaskSettings,
)
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="openai",
    provider=OpenAiProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: OpenAiServiceSettings,
        TaskType.COMPLETION: OpenAiServiceSettings,
        TaskType.TEXT_EMBEDDING: OpenAiEmbeddingServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: OpenAiTaskSettings,
        TaskType.COMPLETION: OpenAiTaskSettings,
        TaskType.TEXT_EMBEDDING: OpenAiTaskSettings,
    },
    default_rate_limit={
        TaskType.CHAT_COMPLETION: 500,
        TaskType.COMPLETION: 500,
        TaskType.TEXT_EMBEDDING: 3000,
    },
)
