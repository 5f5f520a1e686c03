"""The provider call made on PUT/_update before an endpoint is stored.

Like Elasticsearch, the service sends one small request of the endpoint's own task type and
refuses the endpoint if the provider fails: a one-message chat ("how big", the first chunk is
enough and the rest of the generation is cancelled) for chat_completion and completion, an
embedding of ``"how big"`` (input type ``internal_ingest``) for text_embedding and
sparse_embedding, a rerank of ``"how big"`` for the query ``"test query"`` for rerank. Each
goes to the provider method of that task, so it never calls a URL meant for another task.

For text_embedding the answer completes the endpoint as Elasticsearch does: the vector's
length becomes ``service_settings.dimensions`` (a different length than the user's own
``dimensions`` refuses the endpoint) and a missing ``similarity`` gets the provider's default
for vectors of that element type.

Whether to make the call is the API face's choice (``?validate=false``, the
``validate_on_put`` setting); migrations and ``endpoints apply`` never call providers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import msgspec

from inference_service.endpoints.configuration import load_config
from inference_service.errors import InferenceServiceError, UnsupportedError
from inference_service.inference.deadline import Deadline
from inference_service.inference.service import completion_chat
from inference_service.model.embedding import EmbeddingRequest, InputType, TextEmbeddingResult, vector_length
from inference_service.model.endpoint import Endpoint
from inference_service.model.rerank import RerankRequest
from inference_service.model.task_type import TaskType
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.registry import ProviderRegistry
from inference_service.providers.schema import SettingsStruct

PROBE_TEXT = "how big"
RERANK_QUERY = "test query"
FAILED = "Could not complete inference endpoint creation as validation call to service threw an exception."


async def validation_call(
    registry: ProviderRegistry, providers: Mapping[str, Provider], endpoint: Endpoint, deadline: Deadline
) -> Endpoint:
    """Call the provider once as ``endpoint``; the endpoint completed by what it answered, or
    :class:`UnsupportedError` if it failed."""
    spec = registry.get(endpoint.service)
    config = load_config(spec, endpoint)
    provider = providers[endpoint.service]
    window = asyncio.timeout(deadline.seconds)
    try:
        async with window:
            vector = await _probe(provider, config)
    except TimeoutError:
        if not window.expired():
            raise
        raise UnsupportedError(FAILED, caused_by=deadline.expired()) from None
    except InferenceServiceError as exc:
        raise UnsupportedError(FAILED, caused_by=exc) from None
    if vector is None:
        return endpoint
    return _with_embedding_details(
        endpoint, spec.service_settings[endpoint.task_type], spec.similarity_for(vector.element_type), vector
    )


async def _probe(provider: Provider, config: EndpointConfig) -> TextEmbeddingResult | None:
    task = config.task_type
    probe = EmbeddingRequest(input=[PROBE_TEXT], input_type=InputType.INTERNAL_INGEST)
    if task in (TaskType.CHAT_COMPLETION, TaskType.COMPLETION):
        chunks = provider.stream_chat(config, completion_chat(PROBE_TEXT))
        try:
            await anext(chunks, None)
        finally:
            await chunks.aclose()
    elif task == TaskType.TEXT_EMBEDDING:
        return await provider.embed(config, probe)
    elif task == TaskType.SPARSE_EMBEDDING:
        await provider.sparse_embed(config, probe)
    else:
        await provider.rerank(config, RerankRequest(query=RERANK_QUERY, input=[PROBE_TEXT]))
    return None


def _with_embedding_details(
    endpoint: Endpoint, settings: type[SettingsStruct], similarity: str, result: TextEmbeddingResult
) -> Endpoint:
    length = vector_length(result.embeddings[0]) if result.embeddings else 0
    if not length:
        raise UnsupportedError(FAILED, caused_by=UnsupportedError("Could not determine embedding size"))
    size = length * (8 if result.element_type == "bit" else 1)
    fields = settings.__struct_fields__
    service_settings = dict(endpoint.service_settings)
    configured = service_settings.get("dimensions")
    if configured is not None and configured != size:
        raise UnsupportedError(
            f"The retrieved embeddings size [{size}] does not match the size specified in the settings "
            f"[{configured}]. Please recreate the [{endpoint.inference_id}] configuration with the correct "
            "dimensions"
        )
    if "dimensions" in fields:
        service_settings["dimensions"] = size
    if "similarity" in fields and service_settings.get("similarity") is None:
        service_settings["similarity"] = similarity
    return msgspec.structs.replace(endpoint, service_settings=service_settings)
