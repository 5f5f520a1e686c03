"""The response cache around every provider call: a :class:`~inference_service.inference.pipeline.Wrapper`.

Outermost in the chain, so a hit costs no rate-limit token and no retry, and for every task
type: a chat (streaming or not, since a non-streaming answer is the stream put together) is
stored as its batches of chunks once the provider has sent the last one; an embedding batch
or a rerank as its result. Only a complete answer is stored: a provider error, a timeout or a
client that leaves mid-stream stores nothing, so errors are never cached.

An endpoint without a ``cache`` object pays one attribute check per call. With one, a lookup
is a SHA-256 of the request (:mod:`inference_service.cache.policy`) and a dictionary or Redis
read; the request's ``Cache-Control`` (in its
:class:`~inference_service.inference.record.RequestRecord`) can skip the read (``no-cache``,
``max-age``) or the write (``no-store``), and the record collects the hits and misses the
faces turn into ``X-Cache`` and ``Age``. A Redis write happens in the background, after the
client has its last byte.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from inference_service.cache.codec import (
    Batches,
    Unary,
    decode_result,
    decode_stream,
    encode_result,
    encode_stream,
)
from inference_service.cache.policy import CachePolicy
from inference_service.cache.store import CacheStore
from inference_service.inference.pipeline import ChatHandler, UnaryHandler, UnaryRequest, Wrapper
from inference_service.inference.record import CacheControl, current_record
from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.embedding import SparseEmbeddingResult, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig

log = logging.getLogger("inference_service.cache")


class ResponseCache(Wrapper):
    def __init__(self, store: CacheStore) -> None:
        self._store = store
        self._writes: set[asyncio.Task[None]] = set()

    def stream(self, inner: ChatHandler) -> ChatHandler:
        def handler(target: Any, config: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
            policy: CachePolicy | None = target.cache
            if policy is None:
                return inner(target, config, request)
            return self._cached_stream(inner, target, config, request, policy)

        return handler

    async def _cached_stream(
        self,
        inner: ChatHandler,
        target: Any,
        config: EndpointConfig,
        request: ChatCompletionRequest,
        policy: CachePolicy,
    ) -> ChunkStream:
        record = current_record()
        control = record.cache_control
        use = record.cache_use()
        key = policy.key(config, request)
        if control.read:
            data = await self._store.get(key)
            if data is not None:
                entry = decode_stream(data)
                if _fresh_enough(entry.age_s, control):
                    use.hit(entry.age_s, entry.stored_at)
                    for batch in entry.value:
                        yield batch
                    return
        use.miss()
        batches: Batches = []
        stream = inner(target, config, request)
        try:
            async for batch in stream:
                if control.write:
                    batches.append(batch)
                yield batch
        finally:
            await stream.aclose()
        if control.write:
            await self._write(key, encode_stream(batches), policy.ttl_s)

    def unary(self, inner: UnaryHandler) -> UnaryHandler:
        async def handler(target: Any, config: EndpointConfig, request: UnaryRequest) -> Unary:
            policy: CachePolicy | None = target.cache
            if policy is None:
                return await inner(target, config, request)
            record = current_record()
            control = record.cache_control
            use = record.cache_use()
            key = policy.key(config, request)
            if control.read:
                data = await self._store.get(key)
                if data is not None:
                    entry = decode_result(data, _result_kind(config, request))
                    if _fresh_enough(entry.age_s, control):
                        use.hit(entry.age_s, entry.stored_at)
                        return entry.value
            use.miss()
            result = await inner(target, config, request)
            if control.write:
                await self._write(key, encode_result(result), policy.ttl_s)
            return result

        return handler

    async def _write(self, key: str, data: bytes, ttl_s: float) -> None:
        if not self._store.remote:
            await self._store.set(key, data, ttl_s)
            return
        self._spawn(self._store.set(key, data, ttl_s))

    def _spawn(self, write: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(write)
        self._writes.add(task)  # a reference until it is done, or the loop may drop it
        task.add_done_callback(self._writes.discard)

    async def drain(self) -> None:
        """Wait for the background writes still running (at shutdown)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)


def _fresh_enough(age_s: float, control: CacheControl) -> bool:
    return control.max_age is None or age_s <= control.max_age


def _result_kind(config: EndpointConfig, request: UnaryRequest) -> type[Unary]:
    if isinstance(request, RerankRequest):
        return RerankResult
    if config.task_type == TaskType.SPARSE_EMBEDDING:
        return SparseEmbeddingResult
    return TextEmbeddingResult
