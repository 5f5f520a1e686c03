"""The wrappers around every provider call: one chain, built once, shared by every face.

A cross-cutting concern (the rate-limit gate now; metrics, usage accounting, retries and a
cache to come) is a :class:`Wrapper`: it takes the handler that makes the call and returns one
that does the same with its concern added, the way ASGI middleware wraps an app. Failover is
not a wrapper but the ``router`` service (:mod:`inference_service.providers.router`): a
router endpoint's provider calls its targets through this same chain, so requests to other
endpoints pay nothing for it. There are two kinds of call: a chat streams
(:data:`ChatHandler`), every other task answers once (:data:`UnaryHandler`: embeddings,
sparse embeddings, rerank; one call per upstream batch). :func:`compose` applies the
wrappers once at start-up, so a request pays only for the wrappers themselves, never for
assembling them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig

if TYPE_CHECKING:
    from inference_service.endpoints.catalog import ResolvedEndpoint

ChatHandler = Callable[["ResolvedEndpoint", EndpointConfig, ChatCompletionRequest], ChunkStream]
"""Streams a chat from the endpoint: the resolved endpoint, the configuration for this
request (per-request task settings applied) and the request."""

UnaryRequest = EmbeddingRequest | RerankRequest
UnaryResult = TextEmbeddingResult | SparseEmbeddingResult | RerankResult
UnaryHandler = Callable[["ResolvedEndpoint", EndpointConfig, UnaryRequest], Awaitable[UnaryResult]]
"""One answer from the endpoint for the task type of ``config``."""


class Wrapper:
    """One concern around the provider call. The defaults add nothing."""

    def stream(self, inner: ChatHandler) -> ChatHandler:
        return inner

    def unary(self, inner: UnaryHandler) -> UnaryHandler:
        return inner


def call_provider(
    target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
) -> ChunkStream:
    """The innermost chat handler: the provider itself."""
    return target.provider.stream_chat(config, request)


async def call_provider_once(
    target: ResolvedEndpoint, config: EndpointConfig, request: UnaryRequest
) -> UnaryResult:
    """The innermost unary handler: the provider method of the task type."""
    provider = target.provider
    task = config.task_type
    if isinstance(request, RerankRequest):
        return await provider.rerank(config, request)
    if task == TaskType.SPARSE_EMBEDDING:
        return await provider.sparse_embed(config, request)
    return await provider.embed(config, request)


@dataclass(frozen=True, slots=True)
class Pipeline:
    chat: ChatHandler
    unary: UnaryHandler


def compose(wrappers: Sequence[Wrapper]) -> Pipeline:
    """The provider calls inside ``wrappers``; the first wrapper is the outermost."""
    chat: ChatHandler = call_provider
    unary: UnaryHandler = call_provider_once
    for wrapper in reversed(wrappers):
        chat = wrapper.stream(chat)
        unary = wrapper.unary(unary)
    return Pipeline(chat, unary)
