"""The ``hugging_face`` provider: glue of request + http + response, nothing else.

Chat goes through the OpenAI-compatible code (Text Generation Inference behind an Inference
Endpoint), in TGI's dialect: JSON response formats as TGI's grammar, ``seed`` and the penalties as they
are, no ``parallel_tool_calls`` (see :class:`~inference_service.providers.openai.request.Dialect`); text
embeddings and rerank go to the user's URL in Text Embeddings Inference's formats
(:mod:`.embeddings`, :mod:`.rerank`), with a bearer API key (TEI's ``--api-key``, a Hugging
Face token for Inference Endpoints).
"""

from __future__ import annotations

from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.providers.base import EndpointConfig
from inference_service.providers.http import UpstreamRequest, post_json
from inference_service.providers.hugging_face.embeddings import (
    parse_hugging_face_embeddings,
    to_hugging_face_embeddings_request,
)
from inference_service.providers.hugging_face.rerank import (
    parse_hugging_face_rerank,
    to_hugging_face_rerank_request,
)
from inference_service.providers.hugging_face.response import parse_hugging_face_error
from inference_service.providers.hugging_face.settings import (
    HuggingFaceChatServiceSettings,
    HuggingFaceEmbeddingServiceSettings,
    HuggingFaceRerankServiceSettings,
    HuggingFaceRerankTaskSettings,
)
from inference_service.providers.openai.provider import OpenAiCompatibleProvider
from inference_service.providers.openai.request import Dialect

MAX_BATCH_SIZE = 20
"""Elasticsearch's batch for Hugging Face embeddings (TEI's default client batch limit is 32)."""


class HuggingFaceProvider(OpenAiCompatibleProvider):
    service = "hugging_face"
    max_tokens_field = "max_tokens"
    dialect = Dialect(tgi_grammar=True, parallel_tool_calls=False)
    max_batch_size = MAX_BATCH_SIZE

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(HuggingFaceChatServiceSettings).url

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(HuggingFaceChatServiceSettings).model_id

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        url = endpoint.service(HuggingFaceEmbeddingServiceSettings).url
        body = to_hugging_face_embeddings_request(request)
        raw = await post_json(self.http, self._upstream(endpoint, url, body), self.max_response_bytes)
        return parse_hugging_face_embeddings(raw, endpoint.inference_id)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        url = endpoint.service(HuggingFaceRerankServiceSettings).url
        task = endpoint.task(HuggingFaceRerankTaskSettings)
        top_n = request.top_n if request.top_n is not None else task.top_n
        return_documents = (
            request.return_documents if request.return_documents is not None else task.return_documents
        )
        body = to_hugging_face_rerank_request(request, top_n=top_n, return_documents=return_documents)
        raw = await post_json(self.http, self._upstream(endpoint, url, body), self.max_response_bytes)
        result = parse_hugging_face_rerank(raw, endpoint.inference_id)
        return _as_asked(result, top_n, return_documents)

    def _upstream(self, endpoint: EndpointConfig, url: str, body: bytes) -> UpstreamRequest:
        inference_id = endpoint.inference_id
        return UpstreamRequest(
            url=url,
            headers={**self.auth_headers(endpoint), "content-type": "application/json"},
            body=body,
            parse_error=lambda status, raw: parse_hugging_face_error(status, raw, inference_id, url),
            secrets=endpoint.secrets,
        )


def _as_asked(result: RerankResult, top_n: int | None, return_documents: bool | None) -> RerankResult:
    """At most ``top_n`` (TEI ranks every text), texts only when they were asked for."""
    ranked = result.ranked if top_n is None else result.ranked[:top_n]
    if not return_documents:
        ranked = [RankedDocument(index=d.index, relevance_score=d.relevance_score) for d in ranked]
    return RerankResult(ranked=ranked)
