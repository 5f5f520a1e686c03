"""The ``anthropic`` service: the Anthropic Messages API."""

from inference_service.model.task_type import TaskType
from inference_service.providers.anthropic.provider import AnthropicProvider
from inference_service.providers.anthropic.settings import AnthropicServiceSettings, AnthropicTaskSettings
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="anthropic",
    provider=AnthropicProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: AnthropicServiceSettings,
        TaskType.COMPLETION: AnthropicServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: AnthropicTaskSettings,
        TaskType.COMPLETION: AnthropicTaskSettings,
    },
    default_rate_limit={TaskType.CHAT_COMPLETION: 50, TaskType.COMPLETION: 50},
)
