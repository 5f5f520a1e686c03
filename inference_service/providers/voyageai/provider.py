"""The Voyage AI provider: glue of request + http + response, nothing else."""

from __future__ import annotations

from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.http import bearer_json_request, post_json
from inference_service.providers.openai.embeddings import parse_openai_embeddings
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.voyageai.embeddings import to_voyageai_embeddings_request
from inference_service.providers.voyageai.rerank import parse_voyageai_rerank, to_voyageai_rerank_request
from inference_service.providers.voyageai.settings import (
    VoyageAIEmbeddingServiceSettings,
    VoyageAIEmbeddingTaskSettings,
    VoyageAIRerankServiceSettings,
    VoyageAIRerankTaskSettings,
)

EMBEDDINGS_URL = "https://api.voyageai.com/v1/embeddings"
RERANK_URL = "https://api.voyageai.com/v1/rerank"
BATCH_SIZES = {
    "voyage-multimodal-3": 7,
    "voyage-3-large": 7,
    "voyage-code-3": 7,
    "voyage-3": 10,
    "voyage-3-lite": 30,
    "voyage-finance-2": 7,
    "voyage-law-2": 7,
    "voyage-code-2": 7,
    "voyage-2": 72,
    "voyage-02": 72,
}
"""Inputs per embeddings call by model, as Elasticsearch batches them (others: 7)."""


class VoyageAIProvider(Provider):
    max_batch_size = 7

    def batch_size(self, endpoint: EndpointConfig) -> int:
        model = endpoint.service(VoyageAIEmbeddingServiceSettings).model_id
        return BATCH_SIZES.get(model, self.max_batch_size)

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        settings = endpoint.service(VoyageAIEmbeddingServiceSettings)
        body = to_voyageai_embeddings_request(request, settings, endpoint.task(VoyageAIEmbeddingTaskSettings))
        raw = await self._post(endpoint, settings.url or EMBEDDINGS_URL, body)
        return parse_openai_embeddings(raw, endpoint.inference_id, settings.element_type)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        settings = endpoint.service(VoyageAIRerankServiceSettings)
        body = to_voyageai_rerank_request(request, settings, endpoint.task(VoyageAIRerankTaskSettings))
        raw = await self._post(endpoint, settings.url or RERANK_URL, body)
        return parse_voyageai_rerank(raw, endpoint.inference_id)

    async def _post(self, endpoint: EndpointConfig, url: str, body: bytes) -> bytes:
        secrets = endpoint.secret(ApiKeySecrets)
        upstream = bearer_json_request(url, secrets, body, endpoint.inference_id, error_field="detail")
        return await post_json(self.http, upstream, self.max_response_bytes)
