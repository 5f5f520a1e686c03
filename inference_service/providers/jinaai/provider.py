"""The Jina AI provider: glue of request + http + response, nothing else."""

from __future__ import annotations

from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.http import bearer_json_request, post_json
from inference_service.providers.jinaai.embeddings import to_jinaai_embeddings_request
from inference_service.providers.jinaai.rerank import parse_jinaai_rerank, to_jinaai_rerank_request
from inference_service.providers.jinaai.settings import (
    JinaAIEmbeddingServiceSettings,
    JinaAIEmbeddingTaskSettings,
    JinaAIRerankServiceSettings,
    JinaAIRerankTaskSettings,
)
from inference_service.providers.openai.embeddings import parse_openai_embeddings
from inference_service.providers.schema import ApiKeySecrets

EMBEDDINGS_URL = "https://api.jina.ai/v1/embeddings"
RERANK_URL = "https://api.jina.ai/v1/rerank"


class JinaAIProvider(Provider):
    max_batch_size = 2048

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        settings = endpoint.service(JinaAIEmbeddingServiceSettings)
        body = to_jinaai_embeddings_request(request, settings, endpoint.task(JinaAIEmbeddingTaskSettings))
        raw = await self._post(endpoint, settings.url or EMBEDDINGS_URL, body)
        return parse_openai_embeddings(raw, endpoint.inference_id, settings.element_type)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        settings = endpoint.service(JinaAIRerankServiceSettings)
        body = to_jinaai_rerank_request(request, settings, endpoint.task(JinaAIRerankTaskSettings))
        raw = await self._post(endpoint, settings.url or RERANK_URL, body)
        return parse_jinaai_rerank(raw, endpoint.inference_id)

    async def _post(self, endpoint: EndpointConfig, url: str, body: bytes) -> bytes:
        secrets = endpoint.secret(ApiKeySecrets)
        upstream = bearer_json_request(url, secrets, body, endpoint.inference_id, error_field="detail")
        return await post_json(self.http, upstream, self.max_response_bytes)
