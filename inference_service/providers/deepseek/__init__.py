"""The ``deepseek`` service: DeepSeek's OpenAI-compatible chat API."""

from inference_service.model.task_type import TaskType
from inference_service.providers.deepseek.settings import DeepSeekSecrets, DeepSeekServiceSettings
from inference_service.providers.openai.provider import OpenAiDialect, build
from inference_service.providers.spec import ProviderSpec

CHAT_URL = "https://api.deepseek.com/chat/completions"

PROVIDER = ProviderSpec(
    name="deepseek",
    build=build(OpenAiDialect(default_url=CHAT_URL, max_tokens_field="max_tokens")),
    service_settings={
        TaskType.CHAT_COMPLETION: DeepSeekServiceSettings,
        TaskType.COMPLETION: DeepSeekServiceSettings,
    },
    secrets=DeepSeekSecrets,
)
