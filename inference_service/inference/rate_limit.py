"""``rate_limit.requests_per_minute``, enforced per endpoint in each worker, as Elasticsearch
queues requests to respect it.

A token bucket per endpoint: tokens accrue evenly at ``requests_per_minute / 60`` per second
and accumulate up to one second's worth (so a burst is allowed, never a minute's). A request
takes a token; when none is left it reserves the next one and sleeps until it accrues, so
waiting requests go in arrival order. The wait counts against the request's ``timeout``
(the deadline covers queueing); a request that gives up (deadline, disconnect) returns its
reservation. Without Redis each worker has its own buckets, so N workers allow up to N times
the rate; with ``redis_url`` set the gate takes its tokens from one bucket per endpoint in Redis
(:mod:`inference_service.inference.shared_rate_limit`), shared by every worker and node, and
uses the worker's own bucket only while Redis is unreachable.

Buckets are keyed weakly on the catalog's :class:`ResolvedEndpoint`: when an endpoint is
changed or deleted its entry is replaced or dropped and its bucket goes with it, so nothing
accumulates; an unchanged endpoint keeps its entry (and bucket) across catalog reloads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from weakref import WeakKeyDictionary

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference.pipeline import ChatHandler, UnaryHandler, UnaryRequest, UnaryResult, Wrapper
from inference_service.inference.record import current_record
from inference_service.inference.shared_rate_limit import SharedRateLimits
from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.base import ChunkStream, EndpointConfig
from inference_service.providers.schema import RateLimit

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """``capacity`` defaults to one second's worth of tokens (at least one)."""

    def __init__(
        self, per_minute: float, *, clock: Clock, sleep: Sleep, capacity: float | None = None
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = capacity if capacity is not None else max(1.0, self.rate)
        self.tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self.updated = clock()

    def _accrue(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self) -> float:
        """Take a token without waiting: 0 when taken, else the seconds until one accrues."""
        self._accrue()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    @property
    def full(self) -> bool:
        self._accrue()
        return self.tokens >= self.capacity

    async def take(self) -> float:
        """Take a token, waiting until one accrues; the seconds waited."""
        self._accrue()
        self.tokens -= 1.0
        if self.tokens >= 0:
            return 0.0
        wait = -self.tokens / self.rate
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            self.tokens += 1.0
            raise
        return wait


def requests_per_minute(config: EndpointConfig) -> int | None:
    """The endpoint's ``rate_limit.requests_per_minute`` (materialised on PUT), if it has one."""
    limit = getattr(config.service_settings, "rate_limit", None)
    return limit.requests_per_minute if isinstance(limit, RateLimit) else None


class RateLimitGate(Wrapper):
    """Waits for the endpoint's bucket before the provider is called."""

    def __init__(
        self,
        *,
        shared: SharedRateLimits | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._buckets: WeakKeyDictionary[ResolvedEndpoint, TokenBucket | None] = WeakKeyDictionary()
        self._shared = shared
        self._clock = clock
        self._sleep = sleep or asyncio.sleep

    def bucket(self, target: ResolvedEndpoint) -> TokenBucket | None:
        """The endpoint's bucket (None when it has no rate limit), created on first use."""
        try:
            return self._buckets[target]
        except KeyError:
            pass
        per_minute = requests_per_minute(target.config)
        clock = self._clock or asyncio.get_running_loop().time
        bucket = TokenBucket(per_minute, clock=clock, sleep=self._sleep) if per_minute else None
        self._buckets[target] = bucket
        return bucket

    def stream(self, inner: ChatHandler) -> ChatHandler:
        async def gated(
            target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
        ) -> ChunkStream:
            await self._wait_turn(target)
            async with aclosing(inner(target, config, request)) as chunks:
                async for batch in chunks:
                    yield batch

        return gated

    def unary(self, inner: UnaryHandler) -> UnaryHandler:
        """Every embedding batch and rerank call takes a token too, as a chat does."""

        async def gated(
            target: ResolvedEndpoint, config: EndpointConfig, request: UnaryRequest
        ) -> UnaryResult:
            await self._wait_turn(target)
            return await inner(target, config, request)

        return gated

    async def _wait_turn(self, target: ResolvedEndpoint) -> None:
        bucket = self.bucket(target)
        if bucket is None:
            return
        if self._shared is None:
            waited = await bucket.take()
        else:
            waited = await self._take_shared(target.config.inference_id, bucket)
        if waited:
            current_record().rate_limit_wait_s += waited

    async def _take_shared(self, inference_id: str, bucket: TokenBucket) -> float:
        """A token of the endpoint's bucket in Redis (this worker's ``bucket`` when Redis is
        unreachable); the seconds waited. A waiter that gives up returns its reservation."""
        assert self._shared is not None
        wait = await self._shared.take(inference_id, bucket.rate, bucket.capacity)
        if wait is None:
            current_record().rate_limit_fallback = True
            return await bucket.take()
        if wait:
            try:
                await self._sleep(wait)
            except asyncio.CancelledError:
                self._shared.give_back(inference_id, bucket.rate, bucket.capacity)
                raise
        return wait
