"""The ``googleaistudio`` provider: glue of request + http + response, nothing else.

The API key travels as the ``key`` query parameter, as Elasticsearch sends it. It is never
shown: the request's ``url`` (what every message names) is the address without it, the key
goes in :attr:`UpstreamRequest.params`, and an error body that echoed it is scrubbed before
it is read.
"""

from __future__ import annotations

from urllib.parse import quote

from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.googleaistudio.embeddings import (
    parse_google_ai_studio_embeddings,
    to_google_ai_studio_embeddings_request,
)
from inference_service.providers.googleaistudio.response import parse_google_ai_studio_error
from inference_service.providers.googleaistudio.settings import GoogleAiStudioEmbeddingServiceSettings
from inference_service.providers.http import UpstreamRequest, post_json
from inference_service.providers.schema import ApiKeySecrets

BASE_URL = "https://generativelanguage.googleapis.com"
MAX_BATCH_SIZE = 100
"""``batchEmbedContents`` takes at most 100 requests (Elasticsearch's batch)."""


def embeddings_url(settings: GoogleAiStudioEmbeddingServiceSettings) -> str:
    base = (settings.url or BASE_URL).rstrip("/")
    return f"{base}/v1/models/{quote(settings.model_id, safe='')}:batchEmbedContents"


class GoogleAiStudioProvider(Provider):
    max_batch_size = MAX_BATCH_SIZE

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        settings = endpoint.service(GoogleAiStudioEmbeddingServiceSettings)
        key = endpoint.secret(ApiKeySecrets).api_key
        url = embeddings_url(settings)
        inference_id = endpoint.inference_id
        body = to_google_ai_studio_embeddings_request(
            request,
            model_id=settings.model_id,
            dimensions=settings.dimensions if settings.dimensions_set_by_user else None,
        )
        upstream = UpstreamRequest(
            url=url,
            headers={"content-type": "application/json"},
            body=body,
            params={"key": key},
            parse_error=lambda status, raw: parse_google_ai_studio_error(status, raw, inference_id, url),
            secrets=endpoint.secrets,
        )
        raw = await post_json(self.http, upstream, self.max_response_bytes)
        return parse_google_ai_studio_embeddings(raw, inference_id)
