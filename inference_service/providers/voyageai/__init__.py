"""The ``voyageai`` service: Voyage AI's embeddings and rerank APIs."""

from inference_service.model.task_type import TaskType
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec
from inference_service.providers.voyageai.provider import VoyageAIProvider
from inference_service.providers.voyageai.settings import (
    VoyageAIEmbeddingServiceSettings,
    VoyageAIEmbeddingTaskSettings,
    VoyageAIRerankServiceSettings,
    VoyageAIRerankTaskSettings,
)

PROVIDER = ProviderSpec(
    name="voyageai",
    provider=VoyageAIProvider,
    service_settings={
        TaskType.TEXT_EMBEDDING: VoyageAIEmbeddingServiceSettings,
        TaskType.RERANK: VoyageAIRerankServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={
        TaskType.TEXT_EMBEDDING: VoyageAIEmbeddingTaskSettings,
        TaskType.RERANK: VoyageAIRerankTaskSettings,
    },
    default_rate_limit={TaskType.TEXT_EMBEDDING: 2000, TaskType.RERANK: 2000},
)
