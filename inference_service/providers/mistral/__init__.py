"""The ``mistral`` service: Mistral's OpenAI-compatible chat API (``model``, ``max_tokens``)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.mistral.settings import MistralSecrets, MistralServiceSettings
from inference_service.providers.openai.provider import OpenAiDialect, build
from inference_service.providers.spec import ProviderSpec

CHAT_URL = "https://api.mistral.ai/v1/chat/completions"

PROVIDER = ProviderSpec(
    name="mistral",
    build=build(
        OpenAiDialect(
            default_url=CHAT_URL,
            model_setting="model",
            max_tokens_field="max_tokens",
        )
    ),
    service_settings={
        TaskType.CHAT_COMPLETION: MistralServiceSettings,
        TaskType.COMPLETION: MistralServiceSettings,
    },
    secrets=MistralSecrets,
    default_rate_limit={TaskType.CHAT_COMPLETION: 240, TaskType.COMPLETION: 240},
)
