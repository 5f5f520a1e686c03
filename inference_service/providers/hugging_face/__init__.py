"""The ``hugging_face`` service: chat through an OpenAI-compatible ``/v1/chat/completions`` URL;
text_embedding and rerank against the user's endpoint in Text Embeddings Inference's formats."""

from inference_service.model.task_type import TaskType
from inference_service.providers.hugging_face.provider import HuggingFaceProvider
from inference_service.providers.hugging_face.settings import (
    HuggingFaceChatServiceSettings,
    HuggingFaceEmbeddingServiceSettings,
    HuggingFaceRerankServiceSettings,
    HuggingFaceRerankTaskSettings,
)
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

__all__ = ["PROVIDER", "HuggingFaceProvider"]

PROVIDER = ProviderSpec(
    name="hugging_face",
    provider=HuggingFaceProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: HuggingFaceChatServiceSettings,
        TaskType.COMPLETION: HuggingFaceChatServiceSettings,
        TaskType.TEXT_EMBEDDING: HuggingFaceEmbeddingServiceSettings,
        TaskType.RERANK: HuggingFaceRerankServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={TaskType.RERANK: HuggingFaceRerankTaskSettings},
    default_similarity="cosine",
    default_rate_limit={
        TaskType.CHAT_COMPLETION: 3000,
        TaskType.COMPLETION: 3000,
        TaskType.TEXT_EMBEDDING: 3000,
        TaskType.RERANK: 3000,
    },
)
