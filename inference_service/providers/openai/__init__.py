"""The ``openai`` service: the OpenAI API and any OpenAI-compatible server (via ``url``).

``text_embedding`` endpoints are not declared yet: the service cannot serve them, and the
registry refuses a declaration the provider cannot honour.
"""

from inference_service.model.task_type import TaskType
from inference_service.providers.openai.provider import OpenAiProvider
from inference_service.providers.openai.settings import OpenAiServiceSettings, OpenAiTaskSettings
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="openai",
    provider=OpenAiProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: OpenAiServiceSettings,
        TaskType.COMPLETION: OpenAiServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: OpenAiTaskSettings,
        TaskType.COMPLETION: OpenAiTaskSettings,
    },
    default_rate_limit={
        TaskType.CHAT_COMPLETION: 500,
        TaskType.COMPLETION: 500,
    },
)
