"""The ``jinaai`` service: Jina AI's embeddings and rerank APIs."""

from inference_service.model.task_type import TaskType
from inference_service.providers.jinaai.provider import JinaAIProvider
from inference_service.providers.jinaai.settings import (
    JinaAIEmbeddingServiceSettings,
    JinaAIEmbeddingTaskSettings,
    JinaAIRerankServiceSettings,
    JinaAIRerankTaskSettings,
)
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name="jinaai",
    provider=JinaAIProvider,
    service_settings={
        TaskType.TEXT_EMBEDDING: JinaAIEmbeddingServiceSettings,
        TaskType.RERANK: JinaAIRerankServiceSettings,
    },
    secrets=ApiKeySecrets,
    task_settings={
        TaskType.TEXT_EMBEDDING: JinaAIEmbeddingTaskSettings,
        TaskType.RERANK: JinaAIRerankTaskSettings,
    },
    element_similarity={"bit": "l2_norm"},
    default_rate_limit={TaskType.TEXT_EMBEDDING: 2000, TaskType.RERANK: 2000},
)
