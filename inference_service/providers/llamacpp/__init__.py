"""The ``llamacpp`` service: GGUF models run in this process by llama.cpp (the ``local`` extra):
chat and completion, text embeddings, and bi-encoder rerank."""

from inference_service.model.task_type import TaskType
from inference_service.providers.llamacpp.provider import LlamaCppProvider
from inference_service.providers.llamacpp.settings import (
    LlamaCppEmbeddingSettings,
    LlamaCppRerankSettings,
    LlamaCppServiceSettings,
    LlamaCppTaskSettings,
)
from inference_service.providers.schema import NoSecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="llamacpp",
    provider=LlamaCppProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: LlamaCppServiceSettings,
        TaskType.COMPLETION: LlamaCppServiceSettings,
        TaskType.TEXT_EMBEDDING: LlamaCppEmbeddingSettings,
        TaskType.RERANK: LlamaCppRerankSettings,
    },
    secrets=NoSecrets,
    task_settings={
        TaskType.CHAT_COMPLETION: LlamaCppTaskSettings,
        TaskType.COMPLETION: LlamaCppTaskSettings,
    },
    default_similarity="cosine",
)
