"""The ``llamacpp`` service: GGUF models run in this process by llama.cpp (the ``local`` extra)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.llamacpp.provider import LlamaCppProvider
from inference_service.providers.llamacpp.settings import (
    LlamaCppSecrets,
    LlamaCppServiceSettings,
    LlamaCppTaskSettings,
)
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="llamacpp",
    build=LlamaCppProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: LlamaCppServiceSettings,
        TaskType.COMPLETION: LlamaCppServiceSettings,
    },
    secrets=LlamaCppSecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: LlamaCppTaskSettings,
        TaskType.COMPLETION: LlamaCppTaskSettings,
    },
)
