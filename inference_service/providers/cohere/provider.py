"""The Cohere provider: glue of request + http + response, nothing else."""

from __future__ import annotations

from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.cohere.embeddings import parse_cohere_embeddings, to_cohere_embed_request
from inference_service.providers.cohere.rerank import parse_cohere_rerank, to_cohere_rerank_request
from inference_service.providers.cohere.settings import (
    CohereEmbeddingServiceSettings,
    CohereEmbeddingTaskSettings,
    CohereRerankServiceSettings,
    CohereRerankTaskSettings,
)
from inference_service.providers.http import bearer_json_request, post_json
from inference_service.providers.schema import ApiKeySecrets

EMBED_URL = "https://api.cohere.ai/v2/embed"
RERANK_URL = "https://api.cohere.ai/v2/rerank"


class CohereProvider(Provider):
    max_batch_size = 96  # Cohere's limit of texts per embed call

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        settings = endpoint.service(CohereEmbeddingServiceSettings)
        body = to_cohere_embed_request(request, settings, endpoint.task(CohereEmbeddingTaskSettings))
        raw = await self._post(endpoint, settings.url or EMBED_URL, body)
        return parse_cohere_embeddings(raw, endpoint.inference_id, settings.element_type)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        settings = endpoint.service(CohereRerankServiceSettings)
        body = to_cohere_rerank_request(request, settings, endpoint.task(CohereRerankTaskSettings))
        raw = await self._post(endpoint, settings.url or RERANK_URL, body)
        return parse_cohere_rerank(raw, endpoint.inference_id)

    async def _post(self, endpoint: EndpointConfig, url: str, body: bytes) -> bytes:
        secrets = endpoint.secret(ApiKeySecrets)
        upstream = bearer_json_request(url, secrets, body, endpoint.inference_id, error_field="message")
        return await post_json(self.http, upstream, self.max_response_bytes)
