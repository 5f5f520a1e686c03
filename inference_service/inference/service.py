"""The service layer: what every API face calls to perform inference.

A face decodes its request, calls :class:`InferenceService` and renders what comes back; it
never talks to a provider itself. Here, once for every face: the endpoint is resolved from the
catalog (no database query), per-request ``task_settings`` are validated and applied, the
deadline is derived, and the provider is called through the wrapper chain
(:mod:`inference_service.inference.pipeline`). Non-streaming answers are the stream put
together (:mod:`inference_service.inference.aggregate`); a non-streaming chat whose
``response_format`` is a strict ``json_schema`` is checked against it
(:mod:`inference_service.inference.strict_output`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from inference_service.endpoints.catalog import EndpointCatalog, ResolvedEndpoint
from inference_service.endpoints.configuration import override_task_settings
from inference_service.errors import UpstreamError
from inference_service.inference.aggregate import aggregate_chat
from inference_service.inference.batching import embed_batched
from inference_service.inference.deadline import Deadline, default_timeout, gather, within
from inference_service.inference.pipeline import Pipeline, Wrapper, compose
from inference_service.inference.record import peek_record
from inference_service.inference.route import open_route
from inference_service.inference.strict_output import check_strict_output
from inference_service.model.chat import (
    ChatCompletion,
    ChatCompletionRequest,
    JsonSchemaFormat,
    UserMessage,
)
from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult, TextEmbeddingResult
from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig
from inference_service.providers.router.provider import ROUTER_SERVICE
from inference_service.settings import Settings


class InferenceService:
    def __init__(self, settings: Settings, catalog: EndpointCatalog, wrappers: Sequence[Wrapper]) -> None:
        self.settings = settings
        self.catalog = catalog
        self._pipeline = compose(wrappers)

    @property
    def pipeline(self) -> Pipeline:
        """The wrapper chain around the provider calls (a router calls its targets through it)."""
        return self._pipeline

    async def resolve(self, inference_id: str) -> ResolvedEndpoint:
        """The endpoint ready to serve (404 when there is none), noted in the request's record."""
        target = await self.catalog.resolve(inference_id)
        record = peek_record()
        if record is not None:
            record.resolved(target)
        return target

    def deadline(self, task_type: TaskType, raw: str | None) -> Deadline:
        """The request's deadline from a ``timeout`` time value, or the task type's default."""
        return Deadline.parse(raw, default_timeout(self.settings, task_type))

    @staticmethod
    def configure(target: ResolvedEndpoint, task_settings: Mapping[str, Any] | None) -> EndpointConfig:
        """The configuration for one request: the endpoint's, with the request's
        ``task_settings`` merged over its own and validated as on PUT."""
        if not task_settings:
            return target.config
        return override_task_settings(target.spec, target.endpoint, target.config, task_settings)

    def stream_chat(
        self, target: ResolvedEndpoint, request: ChatCompletionRequest, config: EndpointConfig | None = None
    ) -> ChunkStream:
        """The answer as a stream of chunks (the caller closes it and applies the deadline to the
        first chunk)."""
        return self._pipeline.chat(target, config or target.config, request)

    async def chat(
        self,
        target: ResolvedEndpoint,
        request: ChatCompletionRequest,
        deadline: Deadline,
        config: EndpointConfig | None = None,
    ) -> ChatCompletion:
        """The whole answer at once; the deadline covers all of it. With a strict ``json_schema``
        response format, an answer that breaks it is a 502."""
        answer = await within(deadline, aggregate_chat(self.stream_chat(target, request, config)))
        fmt = request.response_format
        if isinstance(fmt, JsonSchemaFormat) and fmt.json_schema.strict:
            check_strict_output(answer, fmt.json_schema, target.endpoint.inference_id)
        return answer

    def stream_completion(self, target: ResolvedEndpoint, text: str, config: EndpointConfig) -> ChunkStream:
        """A completion is a chat with one user message."""
        return self.stream_chat(target, completion_chat(text), config)

    async def complete(
        self, target: ResolvedEndpoint, inputs: Sequence[str], config: EndpointConfig, deadline: Deadline
    ) -> list[str]:
        """One completion per input, run concurrently; the deadline covers all of them."""
        if target.spec.name == ROUTER_SERVICE:
            open_route(target.endpoint.inference_id)  # before the fan-out: one record for all inputs

        async def one(text: str) -> str:
            answer = await aggregate_chat(self.stream_completion(target, text, config))
            return answer.choices[0].message.content or ""

        return await within(deadline, gather(one(text) for text in inputs))

    async def embed(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: EmbeddingRequest, deadline: Deadline
    ) -> TextEmbeddingResult:
        """Dense vectors, one per input in order; large inputs run as concurrent batches."""
        result = await within(deadline, self.batched(target, config, request))
        if not isinstance(result, TextEmbeddingResult):
            raise _wrong_result(target, result)
        return result

    async def sparse_embed(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: EmbeddingRequest, deadline: Deadline
    ) -> SparseEmbeddingResult:
        """Token -> weight maps, one per input in order, batched like :meth:`embed`."""
        result = await within(deadline, self.batched(target, config, request))
        if not isinstance(result, SparseEmbeddingResult):
            raise _wrong_result(target, result)
        return result

    async def rerank(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: RerankRequest, deadline: Deadline
    ) -> RerankResult:
        """The inputs by relevance, best first, at most ``top_n``; each document's text when
        ``return_documents`` (taken from the request, so every provider answers alike)."""
        result = await within(deadline, self._pipeline.unary(target, config, request))
        if not isinstance(result, RerankResult):
            raise _wrong_result(target, result)
        return ranked(target, request, result)

    def batched(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: EmbeddingRequest
    ) -> Awaitable[TextEmbeddingResult | SparseEmbeddingResult]:
        """An embedding request cut into the provider's batches, run concurrently."""
        limit = asyncio.Semaphore(self.settings.embedding_batch_concurrency)
        return embed_batched(self._pipeline.unary, target, config, request, limit)


def _wrong_result(target: ResolvedEndpoint, result: object) -> UpstreamError:
    return UpstreamError(
        f"The provider of [{target.endpoint.inference_id}] answered with {type(result).__name__} "
        f"for task type [{target.endpoint.task_type}]"
    )


def ranked(target: ResolvedEndpoint, request: RerankRequest, result: RerankResult) -> RerankResult:
    """Best first, ``top_n`` at most, indexes checked, texts per ``return_documents``."""
    documents = request.input
    for doc in result.ranked:
        if not 0 <= doc.index < len(documents):
            raise UpstreamError(
                f"The provider ranked a document at index [{doc.index}] for inference entity id "
                f"[{target.endpoint.inference_id}], which has [{len(documents)}] inputs"
            )
    order = sorted(result.ranked, key=lambda d: d.relevance_score, reverse=True)
    if request.top_n is not None:
        order = order[: request.top_n]
    if request.return_documents is not None:
        order = [
            RankedDocument(
                index=d.index,
                relevance_score=d.relevance_score,
                text=documents[d.index] if request.return_documents else None,
            )
            for d in order
        ]
    return RerankResult(ranked=order)


def completion_chat(text: str) -> ChatCompletionRequest:
    return ChatCompletionRequest(messages=[UserMessage(content=text)])
