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
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from inference_service.cache.codec import (
    Batches,
    Entry,
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
T = TypeVar("T")


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
        control = current_record().cache_control
        key = policy.key(config, request)
        hit = await self._lookup(key, control, decode_stream)
        if hit is not None:
            for batch in hit:
                yield batch
            return
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
            control = current_record().cache_control
            key = policy.key(config, request)
            kind = _result_kind(config, request)
            hit = await self._lookup(key, control, lambda data: decode_result(data, kind))
            if hit is not None:
                return hit
            result = await inner(target, config, request)
            if control.write:
                await self._write(key, encode_result(result), policy.ttl_s)
            return result

        return handler

    async def _lookup(self, key: str, control: CacheControl, decode: Callable[[bytes], Entry[T]]) -> T | None:
        """The stored answer under ``key`` if the request may use it (a hit), else None (a
        miss); either way noted in the request's record."""
        use = current_record().cache_use()
        if control.read:
            data = await self._store.get(key)
            if data is not None:
                entry = decode(data)
                if control.max_age is None or entry.age_s <= control.max_age:
                    use.hit(entry.age_s, entry.stored_at)
                    return entry.value
        use.miss()
        return None

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


def _result_kind(config: EndpointConfig, request: UnaryRequest) -> type[Unary]:
    if isinstance(request, RerankRequest):
        return RerankResult
    if config.task_type == TaskType.SPARSE_EMBEDDING:
        return SparseEmbeddingResult
    return TextEmbeddingResult
