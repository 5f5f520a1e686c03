"""The ``deepseek`` service: DeepSeek's OpenAI-compatible chat API.

Its ``response_format`` is ``text`` or ``json_object`` (JSON mode; no ``json_schema``), and it
takes neither ``seed`` nor ``parallel_tool_calls``: those are 400s here, not dropped.
"""

from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig
from inference_service.providers.deepseek.settings import DeepSeekServiceSettings
from inference_service.providers.openai.provider import OpenAiCompatibleProvider
from inference_service.providers.openai.request import Dialect
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

CHAT_URL = "https://api.deepseek.com/chat/completions"


class DeepSeekProvider(OpenAiCompatibleProvider):
    service = "deepseek"
    max_tokens_field = "max_tokens"
    dialect = Dialect(
        response_formats=frozenset({"text", "json_object"}), seed_field=None, parallel_tool_calls=False
    )

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(DeepSeekServiceSettings).url or CHAT_URL

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(DeepSeekServiceSettings).model_id


PROVIDER = ProviderSpec(
    name="deepseek",
    provider=DeepSeekProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: DeepSeekServiceSettings,
        TaskType.COMPLETION: DeepSeekServiceSettings,
    },
    secrets=ApiKeySecrets,
)
