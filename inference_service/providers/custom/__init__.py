"""The ``custom`` service: any HTTP API for text_embedding, sparse_embedding, rerank or
completion, described by URL/header/body templates and JSON paths (Elasticsearch 8.19+/9.1+)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.custom.provider import (
    CustomProvider,
    check_custom_settings,
    custom_call_urls,
)
from inference_service.providers.custom.settings import (
    CustomCompletionSettings,
    CustomRerankSettings,
    CustomSecrets,
    CustomSparseEmbeddingSettings,
    CustomTaskSettings,
    CustomTextEmbeddingSettings,
)
from inference_service.providers.spec import ProviderSpec

RATE_LIMIT = 10_000
"""Elasticsearch's default requests per minute for the custom service."""

PROVIDER = ProviderSpec(
    name="custom",
    provider=CustomProvider,
    service_settings={
        TaskType.TEXT_EMBEDDING: CustomTextEmbeddingSettings,
        TaskType.SPARSE_EMBEDDING: CustomSparseEmbeddingSettings,
        TaskType.RERANK: CustomRerankSettings,
        TaskType.COMPLETION: CustomCompletionSettings,
    },
    secrets=CustomSecrets,
    task_settings={
        TaskType.TEXT_EMBEDDING: CustomTaskSettings,
        TaskType.SPARSE_EMBEDDING: CustomTaskSettings,
        TaskType.RERANK: CustomTaskSettings,
        TaskType.COMPLETION: CustomTaskSettings,
    },
    default_similarity="dot_product",
    default_rate_limit={
        TaskType.TEXT_EMBEDDING: RATE_LIMIT,
        TaskType.SPARSE_EMBEDDING: RATE_LIMIT,
        TaskType.RERANK: RATE_LIMIT,
        TaskType.COMPLETION: RATE_LIMIT,
    },
    check_settings=check_custom_settings,
    call_urls=custom_call_urls,
)
