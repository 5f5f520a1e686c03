"""The ``openai`` service: the OpenAI API and any OpenAI-compatible server (via ``url``)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.openai.provider import OpenAiDialect, build
from inference_service.providers.openai.settings import (
    OpenAiEmbeddingServiceSettings,
    OpenAiSecrets,
    OpenAiServiceSettings,
    OpenAiTaskSettings,
)
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="openai",
    build=build(OpenAiDialect()),
    service_settings={
        TaskType.CHAT_COMPLETION: OpenAiServiceSettings,
        TaskType.COMPLETION: OpenAiServiceSettings,
        TaskType.TEXT_EMBEDDING: OpenAiEmbeddingServiceSettings,
    },
    secrets=OpenAiSecrets,
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
