"""The provider call made on PUT/_update before an endpoint is stored.

Like Elasticsearch, the service sends one small request of the endpoint's own task type and
refuses the endpoint if the provider fails: a one-message chat ("how big", the first chunk is
enough and the rest of the generation is cancelled) for chat_completion and completion, an
embedding of ``"how big"`` for text_embedding and sparse_embedding, a two-document rerank for
rerank. Each goes to the provider method of that task, so it never calls a URL meant for
another task. Whether to make the call is the API face's choice (``?validate=false``, the
``validate_on_put`` setting); migrations and ``endpoints apply`` never call providers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from inference_service.endpoints.configuration import load_config
from inference_service.errors import InferenceServiceError, UnsupportedError
from inference_service.inference.deadline import Deadline
from inference_service.inference.service import completion_chat
from inference_service.model.embedding import EmbeddingRequest
from inference_service.model.endpoint import Endpoint
from inference_service.model.rerank import RerankRequest
from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.registry import ProviderRegistry

PROBE_TEXT = "how big"
FAILED = "Could not complete inference endpoint creation as validation call to service threw an exception."


async def validation_call(
    registry: ProviderRegistry, providers: Mapping[str, Provider], endpoint: Endpoint, deadline: Deadline
) -> None:
    """Call the provider once as ``endpoint``; raise :class:`UnsupportedError` if it fails."""
    config = load_config(registry.get(endpoint.service), endpoint)
    provider = providers[endpoint.service]
    try:
        async with asyncio.timeout(deadline.seconds):
            await _probe(provider, config)
    except TimeoutError:
        raise UnsupportedError(FAILED, caused_by=deadline.expired()) from None
    except InferenceServiceError as exc:
        raise UnsupportedError(FAILED, caused_by=exc) from None


async def _probe(provider: Provider, config: EndpointConfig) -> None:
    task = config.task_type
    if task in (TaskType.CHAT_COMPLETION, TaskType.COMPLETION):
        chunks = provider.stream_chat(config, completion_chat(PROBE_TEXT))
        try:
            await anext(chunks, None)
        finally:
            await chunks.aclose()
    elif task == TaskType.TEXT_EMBEDDING:
        await provider.embed(config, EmbeddingRequest(input=[PROBE_TEXT]))
    elif task == TaskType.SPARSE_EMBEDDING:
        await provider.sparse_embed(config, EmbeddingRequest(input=[PROBE_TEXT]))
    else:
        await provider.rerank(config, RerankRequest(query=PROBE_TEXT, input=["small", "large"]))
