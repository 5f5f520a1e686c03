"""The ``cohere`` service: Cohere's v2 embed and rerank APIs."""

from inference_service.model.task_type import TaskType
from inference_service.providers.cohere.provider import CohereProvider
from inference_service.providers.cohere.settings import (
    CohereEmbeddingServiceSettings,
    CohereEmbeddingTaskSettings,
    CohereRerankServiceSettings,
    CohereRerankTaskSettings,
)
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="cohere",
    provider=CohereProvider,
    service_settings={
        TaskType.TEXT_EMBEDDING: CohereEmbeddingServiceSettings,
        TaskType.RERANK: CohereRerankServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={
        TaskType.TEXT_EMBEDDING: CohereEmbeddingTaskSettings,
        TaskType.RERANK: CohereRerankTaskSettings,
    },
    default_rate_limit={TaskType.TEXT_EMBEDDING: 10000, TaskType.RERANK: 10000},
)
