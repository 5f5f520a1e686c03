"""The ``anthropic`` service: the Anthropic Messages API."""

from inference_service.model.task_type import TaskType
from inference_service.providers.anthropic.provider import AnthropicProvider
from inference_service.providers.anthropic.settings import (
    AnthropicSecrets,
    AnthropicServiceSettings,
    AnthropicTaskSettings,
)
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="anthropic",
    build=AnthropicProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: AnthropicServiceSettings,
        TaskType.COMPLETION: AnthropicServiceSettings,
    },
    secrets=AnthropicSecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: AnthropicTaskSettings,
        TaskType.COMPLETION: AnthropicTaskSettings,
    },
    default_rate_limit={TaskType.CHAT_COMPLETION: 50, TaskType.COMPLETION: 50},
)
