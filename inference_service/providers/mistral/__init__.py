"""The ``mistral`` service: Mistral's OpenAI-compatible chat API (``model``, ``max_tokens``, the
seed named ``random_seed``; every ``response_format`` type, both penalties and
``parallel_tool_calls``) and its embeddings API (OpenAI's Embeddings format with ``model``, no
``dimensions``)."""

from inference_service.errors import UpstreamError
from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig
from inference_service.providers.mistral.response import parse_mistral_error
from inference_service.providers.mistral.settings import (
    MistralEmbeddingServiceSettings,
    MistralServiceSettings,
)
from inference_service.providers.openai.provider import OpenAiEmbeddings
from inference_service.providers.openai.request import Dialect
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

CHAT_URL = "https://api.mistral.ai/v1/chat/completions"
EMBEDDINGS_URL = "https://api.mistral.ai/v1/embeddings"
EMBEDDING_MAX_BATCH_SIZE = 96
"""Elasticsearch's batch for Mistral embeddings (``MistralConstants.MAX_BATCH_SIZE``; Mistral
publishes no limit)."""


class MistralProvider(OpenAiEmbeddings):
    service = "mistral"
    max_tokens_field = "max_tokens"
    dialect = Dialect(seed_field="random_seed")
    max_batch_size = EMBEDDING_MAX_BATCH_SIZE
    send_dimensions = False

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(MistralServiceSettings).url or CHAT_URL

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(MistralServiceSettings).model

    def embeddings_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(MistralEmbeddingServiceSettings).url or EMBEDDINGS_URL

    def embeddings_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(MistralEmbeddingServiceSettings).model

    def parse_embeddings_error(self, status: int, raw: bytes, inference_id: str, url: str) -> UpstreamError:
        return parse_mistral_error(status, raw, inference_id, url)


PROVIDER = ProviderSpec(
    name="mistral",
    provider=MistralProvider,
    service_settings={
        TaskType.CHAT_COMPLETION: MistralServiceSettings,
        TaskType.COMPLETION: MistralServiceSettings,
        TaskType.TEXT_EMBEDDING: MistralEmbeddingServiceSettings,
    },
    secrets=ApiKeySecrets,
    default_rate_limit={
        TaskType.CHAT_COMPLETION: 240,
        TaskType.COMPLETION: 240,
        TaskType.TEXT_EMBEDDING: 240,
    },
)
