"""The ``router`` service's provider: one request, tried on the router's targets in turn.

A router endpoint is served like any other: the service layer calls this provider through the
wrapper chain. For each request it orders the targets by the router's strategy
(:mod:`~inference_service.providers.router.strategies`), skips those whose circuit breaker is open
(:mod:`~inference_service.providers.router.breaker`), resolves each through the endpoint catalog (no
database query) and calls it through the same wrapper chain (its rate limit applies), with
the target's own configuration.

Failover happens before the first byte only. A stream is opened and its first batch pulled
inside the failover loop; once a batch is out, the target is kept and a later failure is the
stream's honest error frame. Any other task fails over until it has its whole answer (an
embedding request runs all its batches on one target: vectors of two models never mix).
Only the failure kinds in ``fallback_on`` fail over (a connection error, a timeout, a 429, a
5xx); an error that is the caller's (a 400, a 404...) goes back at once. All of it within the
request's deadline (the face's) and ``max_attempts``.

Every routed request logs one line at info with its attempts, and records them in the
request's :class:`~inference_service.inference.route.Route` (the ``X-Inference-Endpoint``
header). Breakers and measurements are this worker's (see the modules).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from inference_service.errors import (
    InferenceServiceError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from inference_service.inference.route import Attempt, Route, open_route
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest
from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider, ProviderContext
from inference_service.providers.router.breaker import Breaker, Clock
from inference_service.providers.router.settings import FailureKind, RouterSettings
from inference_service.providers.router.strategies import TargetStatsTable, order

if TYPE_CHECKING:
    from inference_service.endpoints.catalog import ResolvedEndpoint
    from inference_service.inference.pipeline import Pipeline

log = logging.getLogger("inference_service.router")
T = TypeVar("T")

ROUTER_SERVICE = "router"

Resolve = Callable[[str], Awaitable["ResolvedEndpoint"]]
Batched = Callable[
    ["ResolvedEndpoint", EndpointConfig, EmbeddingRequest],
    Awaitable[TextEmbeddingResult | SparseEmbeddingResult],
]
"""The service layer's batched embedding call (its batch size and concurrency), for the target."""


def bind_router(
    providers: Mapping[str, Provider], resolve: Resolve, pipeline: Pipeline, batched: Batched
) -> None:
    """Give the process's router provider the catalog and the service layer it routes through."""
    router = providers[ROUTER_SERVICE]
    assert isinstance(router, RouterProvider)
    router.bind(resolve, pipeline, batched)


def failure_kind(exc: BaseException) -> FailureKind | None:
    """What kind of target failure ``exc`` is; None when it is not the target's failure."""
    if isinstance(exc, UpstreamConnectionError):
        return "connection"
    if isinstance(exc, UpstreamTimeoutError):
        return "timeout"
    if isinstance(exc, UpstreamError):
        if exc.status == 429:
            return "429"
        if exc.status >= 500:
            return "5xx"
    return None


class RouterProvider(Provider):
    """See the module docstring. Built like every provider, then :meth:`bind`-ed to the
    catalog and the wrapper chain once they exist (they are built with the providers)."""

    max_batch_size = sys.maxsize
    """The router never splits an embedding request: the target it picks does."""

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._resolve: Resolve | None = None
        self._pipeline: Pipeline | None = None
        self._batched: Batched | None = None
        self._clock: Clock = time.monotonic
        self._rng = random.Random()
        self._breakers: dict[tuple[str, str], Breaker] = {}
        self.stats = TargetStatsTable()

    def bind(
        self,
        resolve: Resolve,
        pipeline: Pipeline,
        batched: Batched,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._resolve = resolve
        self._pipeline = pipeline
        self._batched = batched
        self._clock = clock or self._clock
        self._rng = rng or self._rng

    def breaker(self, router: str, target: str, settings: RouterSettings) -> Breaker:
        """The breaker of ``target`` in ``router`` (its parameters are the router's)."""
        key = (router, target)
        breaker = self._breakers.get(key)
        cb = settings.circuit_breaker
        if breaker is None or breaker.parameters != (cb.failures, cb.cooldown_seconds):
            breaker = self._breakers[key] = Breaker(cb.failures, cb.cooldown_seconds, self._clock)
        return breaker

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise RuntimeError("the router provider is used before RouterProvider.bind")
        return self._pipeline

    async def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        routed = _Routed(self, endpoint)
        while (target := await routed.next_target()) is not None:
            stream = self.pipeline.chat(target, target.config, request)
            stats = self.stats[target.endpoint.inference_id]
            stats.in_flight += 1
            started = self._clock()
            try:
                try:
                    first: list[ChatCompletionChunk] | None = await routed.attempt(anext(stream, None))
                except Exception as exc:
                    await stream.aclose()
                    routed.failed(exc)
                    continue
                routed.served(self._clock() - started)
                if first is not None:
                    yield first
                async for batch in stream:
                    yield batch
                return
            except BaseException:
                routed.released()
                raise
            finally:
                stats.in_flight -= 1
                await stream.aclose()
        raise routed.exhausted()

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        result = await self._unary(endpoint, lambda target: self._embed(target, request))
        if not isinstance(result, TextEmbeddingResult):
            raise _wrong_result(endpoint, result)
        return result

    async def sparse_embed(
        self, endpoint: EndpointConfig, request: EmbeddingRequest
    ) -> SparseEmbeddingResult:
        result = await self._unary(endpoint, lambda target: self._embed(target, request))
        if not isinstance(result, SparseEmbeddingResult):
            raise _wrong_result(endpoint, result)
        return result

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        result = await self._unary(
            endpoint, lambda target: self.pipeline.unary(target, target.config, request)
        )
        if not isinstance(result, RerankResult):
            raise _wrong_result(endpoint, result)
        return result

    async def _embed(
        self, target: ResolvedEndpoint, request: EmbeddingRequest
    ) -> TextEmbeddingResult | SparseEmbeddingResult:
        if self._batched is None:
            raise RuntimeError("the router provider is used before RouterProvider.bind")
        return await self._batched(target, target.config, request)

    async def _unary(self, endpoint: EndpointConfig, call: Callable[[ResolvedEndpoint], Awaitable[T]]) -> T:
        routed = _Routed(self, endpoint)
        while (target := await routed.next_target()) is not None:
            stats = self.stats[target.endpoint.inference_id]
            stats.in_flight += 1
            started = self._clock()
            try:
                result = await routed.attempt(call(target))
            except Exception as exc:
                routed.failed(exc)
                continue
            except BaseException:
                routed.released()
                raise
            finally:
                stats.in_flight -= 1
            routed.served(self._clock() - started)
            return result
        raise routed.exhausted()


class _Routed:
    """One routed request: the targets left to try and what happened to each."""

    def __init__(self, router: RouterProvider, endpoint: EndpointConfig) -> None:
        self._router = router
        self._endpoint = endpoint
        self._settings = endpoint.service(RouterSettings)
        self._order = order(self._settings, router.stats, router._rng)
        self._left = self._settings.attempts
        self._timeout = self._settings.attempt_seconds
        self.route: Route = open_route(endpoint.inference_id)
        self._attempts: list[Attempt] = []
        self._target: ResolvedEndpoint | None = None
        self._breaker: Breaker | None = None
        self._started = 0.0
        self._last: InferenceServiceError | None = None
        self._last_target = ""

    @property
    def _id(self) -> str:
        return self._endpoint.inference_id

    def _record(self, attempt: Attempt) -> None:
        self._attempts.append(attempt)
        self.route.attempts.append(attempt)

    async def next_target(self) -> ResolvedEndpoint | None:
        """The next target to try, or None when no attempt is left."""
        resolve = self._router._resolve
        assert resolve is not None, "the router provider is used before RouterProvider.bind"
        while self._order and self._left > 0:
            target_id = self._order.pop(0)
            breaker = self._router.breaker(self._id, target_id, self._settings)
            if not breaker.acquire():
                retry = math.ceil(breaker.retry_in())
                self._record(Attempt(target_id, "skipped", detail=f"circuit open, retry in {retry}s"))
                continue
            try:
                target = await resolve(target_id)
            except InferenceServiceError as exc:
                breaker.released()
                self._record(Attempt(target_id, "unavailable", detail=exc.reason))
                continue
            if target.endpoint.task_type != self._endpoint.task_type or target.spec.name == ROUTER_SERVICE:
                breaker.released()
                detail = f"a [{target.spec.name}] endpoint of task type [{target.endpoint.task_type}]"
                self._record(Attempt(target_id, "unavailable", detail=detail))
                continue
            self._left -= 1
            self._target, self._breaker = target, breaker
            self._started = self._router._clock()
            return target
        return None

    async def attempt(self, work: Awaitable[T]) -> T:
        """``work`` under the router's ``attempt_timeout``, whose expiry is a timeout failure."""
        if self._timeout is None:
            return await work
        window = asyncio.timeout(self._timeout)
        try:
            async with window:
                return await work
        except TimeoutError:
            if not window.expired():
                raise
            assert self._target is not None
            raise UpstreamTimeoutError(
                f"Target [{self._target.endpoint.inference_id}] of router [{self._id}] did not answer "
                f"within [{self._settings.attempt_timeout}]"
            ) from None

    def _elapsed(self) -> float:
        return self._router._clock() - self._started

    def served(self, seconds: float) -> None:
        target, breaker = self._current()
        breaker.succeeded()
        self._router.stats[target].observe(seconds)
        self._record(Attempt(target, "ok", seconds))
        self.route.answered(target)
        self._log(target)

    def failed(self, exc: Exception) -> None:
        """Note a failed attempt; re-raise ``exc`` unless the request fails over."""
        target, breaker = self._current()
        kind = failure_kind(exc)
        if kind is None:
            if isinstance(exc, InferenceServiceError):
                breaker.succeeded()
            else:
                breaker.released()
            self._record(Attempt(target, "refused", self._elapsed(), _reason(exc)))
            self.route.answered(target)
            self._log(target)
            raise exc
        breaker.failed()
        self._record(Attempt(target, kind, self._elapsed(), _reason(exc)))
        assert isinstance(exc, InferenceServiceError)
        self._last, self._last_target = exc, target
        if kind not in self._settings.fallback_on:
            self.route.answered(target)
            self._log(target)
            raise exc
        self._target = self._breaker = None

    def released(self) -> None:
        """The request was cancelled mid-attempt: a probe slot is given back."""
        if self._breaker is not None:
            self._breaker.released()

    def exhausted(self) -> InferenceServiceError:
        """The error once no attempt is left: the last target's own, or a 503 when none could
        be tried (every breaker open, targets gone)."""
        last = self._last
        if last is not None:
            self.route.answered(self._last_target)
            self._log(None)
            return last
        self._log(None)
        error = UpstreamError(
            f"No target of router [{self._id}] could be tried: {self.route.describe()}", status=503
        )
        waits = [
            self._router.breaker(self._id, a.target, self._settings).retry_in()
            for a in self._attempts
            if a.outcome == "skipped"
        ]
        if waits:
            error.retry_after = str(max(1, math.ceil(min(waits))))
        return error

    def _current(self) -> tuple[str, Breaker]:
        assert self._target is not None and self._breaker is not None
        return self._target.endpoint.inference_id, self._breaker

    def _log(self, served_by: str | None) -> None:
        attempts = ", ".join(a.describe() for a in self._attempts) or "none"
        log.info("router [%s] served by [%s]; attempts: %s", self._id, served_by or "-", attempts)


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, InferenceServiceError) else type(exc).__name__


def _wrong_result(endpoint: EndpointConfig, result: object) -> UpstreamError:
    return UpstreamError(
        f"A target of router [{endpoint.inference_id}] answered with {type(result).__name__} "
        f"for task type [{endpoint.task_type}]"
    )
