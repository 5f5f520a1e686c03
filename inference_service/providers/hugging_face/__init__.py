"""The ``hugging_face`` service for chat: an OpenAI-compatible ``/v1/chat/completions`` URL."""

from inference_service.model.task_type import TaskType
from inference_service.providers.hugging_face.settings import (
    HuggingFaceChatServiceSettings,
    HuggingFaceSecrets,
)
from inference_service.providers.openai.provider import OpenAiDialect, build
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="hugging_face",
    build=build(OpenAiDialect(default_url=None, max_tokens_field="max_tokens")),
    service_settings={
        TaskType.CHAT_COMPLETION: HuggingFaceChatServiceSettings,
        TaskType.COMPLETION: HuggingFaceChatServiceSettings,
    },
    secrets=HuggingFaceSecrets,
    default_rate_limit={TaskType.CHAT_COMPLETION: 3000, TaskType.COMPLETION: 3000},
)
