"""Embedding requests split into upstream batches, run concurrently, merged in input order.

A search engine sends up to thousands of inputs in one call (semantic_text at ingest); a
provider takes at most :meth:`~inference_service.providers.base.Provider.batch_size` per call.
The inputs are cut into batches that run concurrently, at most ``embedding_batch_concurrency``
at a time per request (many requests to one endpoint are bounded by its rate limit and the
upstream connection pool, not by each other), each through the wrapper chain (so each batch
waits for the rate limit), inside the request's deadline. The first failing batch fails the
request and cancels the others: a partial result is never returned as a success.

What comes back is checked: one vector per input and, for dense vectors, one length
throughout, matching the endpoint's ``dimensions`` when it has them (a provider answering
otherwise is a 502 naming the problem).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.errors import UpstreamError
from inference_service.inference.pipeline import UnaryHandler, UnaryResult
from inference_service.model.embedding import (
    EmbeddingRequest,
    SparseEmbedding,
    SparseEmbeddingResult,
    TextEmbeddingResult,
    Vector,
    vector_length,
)
from inference_service.providers.base import EndpointConfig


def batches(inputs: Sequence[str], size: int) -> list[list[str]]:
    return [list(inputs[i : i + size]) for i in range(0, len(inputs), size)]


async def embed_batched(
    call: UnaryHandler,
    target: ResolvedEndpoint,
    config: EndpointConfig,
    request: EmbeddingRequest,
    limit: asyncio.Semaphore,
) -> TextEmbeddingResult | SparseEmbeddingResult:
    parts = batches(request.input, target.provider.batch_size(config))

    async def one(inputs: list[str]) -> UnaryResult:
        async with limit:
            return await call(target, config, EmbeddingRequest(input=inputs, input_type=request.input_type))

    if len(parts) == 1:
        results = [await one(parts[0])]
    else:
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(part)) for part in parts]
        except ExceptionGroup as failed:
            raise _first(failed) from None
        results = [task.result() for task in tasks]
    for part, result in zip(parts, results, strict=True):
        _check_count(target, len(part), result)
    if isinstance(results[0], SparseEmbeddingResult):
        sparse: list[SparseEmbedding] = []
        for result in results:
            assert isinstance(result, SparseEmbeddingResult)
            sparse.extend(result.embeddings)
        return SparseEmbeddingResult(embeddings=sparse)
    dense: list[Vector] = []
    element_type = None
    tokens: int | None = 0
    for result in results:
        assert isinstance(result, TextEmbeddingResult)
        dense.extend(result.embeddings)
        element_type = element_type or result.element_type
        tokens = None if tokens is None or result.input_tokens is None else tokens + result.input_tokens
    merged = TextEmbeddingResult(embeddings=dense, element_type=element_type or "float", input_tokens=tokens)
    check_dimensions(target, merged)
    return merged


def _first(group: ExceptionGroup[Exception]) -> Exception:
    """The failure that failed the request (the others were cancelled because of it)."""
    error = group.exceptions[0]
    return _first(error) if isinstance(error, ExceptionGroup) else error


def _check_count(target: ResolvedEndpoint, expected: int, result: UnaryResult) -> None:
    got = len(result.embeddings) if isinstance(result, TextEmbeddingResult | SparseEmbeddingResult) else None
    if got != expected:
        raise UpstreamError(
            f"The provider returned [{got}] embeddings for [{expected}] inputs for inference entity id "
            f"[{target.endpoint.inference_id}]"
        )


def check_dimensions(target: ResolvedEndpoint, result: TextEmbeddingResult) -> None:
    """Every vector as long as the first, and as the endpoint's ``dimensions`` when it has them."""
    if not result.embeddings:
        return
    dimensions = target.endpoint.service_settings.get("dimensions")
    expected = vector_length(result.embeddings[0])
    if isinstance(dimensions, int):
        expected = dimensions // 8 if result.element_type == "bit" else dimensions
    for i, vector in enumerate(result.embeddings):
        length = vector_length(vector)
        if length != expected:
            raise UpstreamError(
                f"The provider returned an embedding of [{length}] values at position [{i}] for "
                f"inference entity id [{target.endpoint.inference_id}]; expected [{expected}]"
            )
