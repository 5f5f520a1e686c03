"""Retries before the first byte: a provider's transient failure is tried again, inside the
request's deadline, while the client has seen nothing of the answer.

What is retried: an :class:`~inference_service.errors.UpstreamError` marked ``retryable``
where transport failures and provider statuses are mapped (:mod:`inference_service.providers.http`):
a connection that failed, was refused or reset, a connect timeout, and the provider statuses
429, 502, 503 and 504. Nothing else: a 4xx will not change, a 500 is the provider's bug, a
read timeout has spent the time already, a local model has no upstream.

When: only before any byte went to the client. A stream is retried until its first batch
came (that batch is what the client sees first); once it is out, a failure is the stream's
error frame, never a second request. A unary call (one embedding batch, a rerank) answers
nothing before it is complete, so it is retried until it answers; an embedding request's
batches each retry on their own. These are inference calls: a repeated one costs tokens,
nothing else.

How often and how long: at most ``upstream_max_retries`` retries (the service setting; an
endpoint's ``service_settings.upstream_max_retries`` overrides it, 0 disables), each after an
exponential backoff (:data:`BASE_DELAY` doubling up to :data:`MAX_DELAY`) with jitter (a random
half of it less, so callers that failed together spread out), or after the provider's
``Retry-After`` when it sent one. A wait that would end past the request's deadline
(:func:`~inference_service.inference.deadline.time_left`) is not started: the last error goes
back at once, so a 429 still reaches the client with the provider's ``Retry-After``.

Routers: a router endpoint is not retried itself (its error is a target's, already retried).
It calls its targets through this same chain, so each target call retries by the target's
own setting before the router fails over, inside the router's ``attempt_timeout``; a target's
breaker counts one failure per exhausted call, not per attempt.

A request that was retried logs one line at info with its attempts (statuses and kinds only:
the reasons were logged, redacted, where each failure was mapped).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import aclosing

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.errors import UpstreamConnectionError, UpstreamError, UpstreamTimeoutError
from inference_service.inference.deadline import time_left
from inference_service.inference.pipeline import ChatHandler, UnaryHandler, UnaryRequest, UnaryResult, Wrapper
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest
from inference_service.providers.base import ChunkStream, EndpointConfig
from inference_service.providers.router.provider import ROUTER_SERVICE
from inference_service.providers.schema import ServiceSettings
from inference_service.retry_after import parse_retry_after

BASE_DELAY = 0.25
"""Seconds before the first retry (before jitter); each further retry waits twice as long."""
MAX_DELAY = 5.0
"""The longest backoff (Elasticsearch's own retries go 1 s -> 5 s)."""

log = logging.getLogger("inference_service.retries")

Sleep = Callable[[float], Awaitable[None]]
Uniform = Callable[[], float]
"""A random number in [0, 1): the jitter's source."""


def max_retries(config: EndpointConfig, default: int) -> int:
    """The endpoint's ``upstream_max_retries``, else the service's ``default``."""
    service = config.service_settings
    if isinstance(service, ServiceSettings) and service.upstream_max_retries is not None:
        return service.upstream_max_retries
    return default


def failure_name(exc: UpstreamError) -> str:
    """How an attempt failed, for the log: the provider's status, else the kind of failure."""
    if exc.provider_status is not None:
        return str(exc.provider_status)
    if isinstance(exc, UpstreamTimeoutError):
        return "timeout"
    if isinstance(exc, UpstreamConnectionError):
        return "connection"
    return str(exc.status)


class Attempts:
    """One call's retry state: how many retries it may still make, what each attempt was."""

    __slots__ = ("_limit", "_random", "failures", "waits")

    def __init__(self, limit: int, uniform: Uniform) -> None:
        self._limit = limit
        self._random = uniform
        self.failures: list[str] = []
        self.waits: list[float] = []

    def next_wait(self, exc: BaseException) -> float | None:
        """The seconds to wait before trying again after ``exc``; None: give up with it."""
        self.failures.append(_name(exc))
        if not isinstance(exc, UpstreamError) or not exc.retryable:
            return None
        made = len(self.waits)
        if made >= self._limit:
            return None
        advised = parse_retry_after(exc.retry_after)
        wait = advised if advised is not None else self.backoff(made)
        left = time_left()
        if left is not None and wait >= left:
            return None  # it would end past the deadline: the client gets this answer now
        self.waits.append(wait)
        return wait

    def backoff(self, made: int) -> float:
        """Exponential, capped, with jitter: between half and all of ``BASE_DELAY * 2**made``."""
        delay = min(MAX_DELAY, BASE_DELAY * 2.0**made)
        return delay * (1.0 - 0.5 * self._random())

    def report(self, target: ResolvedEndpoint, outcome: str) -> None:
        """One log line for a call that was retried (none for one that was not)."""
        if not self.waits:
            return
        steps = ", ".join(
            f"{failure}" + (f" (waited {self.waits[i]:.2f}s)" if i < len(self.waits) else "")
            for i, failure in enumerate(self.failures)
        )
        log.info(
            "upstream call of [%s] made %d attempts: %s; %s",
            target.endpoint.inference_id,
            len(self.waits) + 1,
            steps,
            outcome,
        )


class UpstreamRetries(Wrapper):
    """Tries a provider call again on a transient failure before its first byte (module docstring).

    ``default`` is the service's ``upstream_max_retries``; ``sleep`` and ``uniform`` are
    injectable so tests neither wait nor depend on chance.
    """

    def __init__(self, default: int, *, sleep: Sleep | None = None, uniform: Uniform | None = None) -> None:
        self.default = default
        self._sleep = sleep or asyncio.sleep
        self._uniform = uniform or random.random

    def _limit(self, target: ResolvedEndpoint, config: EndpointConfig) -> int:
        if target.spec.name == ROUTER_SERVICE:
            return 0  # its targets retry (each call through this chain), never the router as well
        return max_retries(config, self.default)

    def stream(self, inner: ChatHandler) -> ChatHandler:
        def handler(
            target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
        ) -> ChunkStream:
            limit = self._limit(target, config)
            if limit == 0:
                return inner(target, config, request)
            return self._stream(inner, target, config, request, limit)

        return handler

    async def _stream(
        self,
        inner: ChatHandler,
        target: ResolvedEndpoint,
        config: EndpointConfig,
        request: ChatCompletionRequest,
        limit: int,
    ) -> ChunkStream:
        attempts = Attempts(limit, self._uniform)
        while True:
            chunks = inner(target, config, request)
            try:
                first: list[ChatCompletionChunk] | None = await anext(chunks, None)
            except Exception as exc:
                await chunks.aclose()
                wait = attempts.next_wait(exc)
                if wait is None:
                    attempts.report(target, "gave up")
                    raise
                await self._sleep(wait)
                continue
            except BaseException:
                await chunks.aclose()
                raise
            break
        attempts.report(target, "answered")
        async with aclosing(chunks):
            if first is None:
                return
            yield first
            async for batch in chunks:
                yield batch

    def unary(self, inner: UnaryHandler) -> UnaryHandler:
        async def handler(
            target: ResolvedEndpoint, config: EndpointConfig, request: UnaryRequest
        ) -> UnaryResult:
            limit = self._limit(target, config)
            if limit == 0:
                return await inner(target, config, request)
            attempts = Attempts(limit, self._uniform)
            while True:
                try:
                    result = await inner(target, config, request)
                except Exception as exc:
                    wait = attempts.next_wait(exc)
                    if wait is None:
                        attempts.report(target, "gave up")
                        raise
                    await self._sleep(wait)
                    continue
                attempts.report(target, "answered")
                return result

        return handler


def _name(exc: BaseException) -> str:
    return failure_name(exc) if isinstance(exc, UpstreamError) else type(exc).__name__
