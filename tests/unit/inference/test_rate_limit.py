"""``rate_limit.requests_per_minute`` (inference_service.inference.rate_limit): a token bucket per
endpoint, driven here by a fake clock and a fake sleep, so no test waits."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Coroutine
from typing import Any

import pytest

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference.pipeline import UnaryRequest, UnaryResult
from inference_service.inference.rate_limit import RateLimitGate, TokenBucket, requests_per_minute
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest, UserMessage
from inference_service.model.endpoint import Endpoint
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers import llamacpp, openai
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.llamacpp.settings import LlamaCppServiceSettings
from inference_service.providers.openai.settings import OpenAiServiceSettings
from inference_service.providers.schema import ApiKeySecrets, NoSecrets, NoTaskSettings, RateLimit


class FakeTime:
    """A clock that only moves when told to, and a sleep that records and waits to be released.

    ``sleep(d)`` records ``d`` and blocks until :meth:`release` (so a test decides when a waiter
    wakes and can cancel it meanwhile); with ``block=False`` it returns at once.
    """

    def __init__(self, *, block: bool = True) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.block = block
        self._gates: list[asyncio.Event] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.block:
            gate = asyncio.Event()
            self._gates.append(gate)
            await gate.wait()

    def release(self) -> None:
        for gate in self._gates:
            gate.set()
        self._gates.clear()


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def bucket(per_minute: float, time: FakeTime) -> TokenBucket:
    return TokenBucket(per_minute, clock=time.clock, sleep=time.sleep)


def test_the_burst_is_one_seconds_worth() -> None:
    async def scenario() -> None:
        time = FakeTime(block=False)
        fast = bucket(600, time)  # 10 per second
        assert (fast.rate, fast.capacity) == (10.0, 10.0)
        for _ in range(10):
            await fast.take()
        assert time.sleeps == []
        await fast.take()
        assert time.sleeps == [pytest.approx(0.1)]

    run(scenario())


def test_a_slow_rate_still_allows_one_request_at_once() -> None:
    async def scenario() -> None:
        time = FakeTime(block=False)
        slow = bucket(30, time)  # one every two seconds
        assert (slow.rate, slow.capacity) == (0.5, 1.0)
        await slow.take()
        assert time.sleeps == []
        await slow.take()
        assert time.sleeps == [pytest.approx(2.0)]

    run(scenario())


def test_tokens_refill_at_the_rate_and_never_beyond_the_capacity() -> None:
    async def scenario() -> None:
        time = FakeTime(block=False)
        limited = bucket(120, time)  # 2 per second, burst of 2
        await limited.take()
        await limited.take()
        assert limited.tokens == 0
        time.now += 0.25  # half a token
        await limited.take()
        assert time.sleeps == [pytest.approx(0.25)]  # the other half
        time.now += 3600  # an hour idle accrues only the burst
        await limited.take()
        await limited.take()
        assert time.sleeps == [pytest.approx(0.25)]
        await limited.take()
        assert time.sleeps == [pytest.approx(0.25), pytest.approx(0.5)]

    run(scenario())


def test_waiters_reserve_tokens_in_arrival_order() -> None:
    async def scenario() -> None:
        time = FakeTime()
        limited = bucket(60, time)  # 1 per second
        await limited.take()
        done: list[str] = []

        async def request(name: str) -> None:
            await limited.take()
            done.append(name)

        waiters = [asyncio.create_task(request(name)) for name in ("a", "b", "c")]
        await asyncio.sleep(0)
        # each waiter reserved the next token, so each sleeps one second longer than the one before
        assert time.sleeps == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]
        assert limited.tokens == pytest.approx(-3.0)
        time.release()
        await asyncio.gather(*waiters)
        assert done == ["a", "b", "c"]

    run(scenario())


def test_a_cancelled_waiter_returns_its_token() -> None:
    async def scenario() -> None:
        time = FakeTime()
        limited = bucket(60, time)
        await limited.take()
        first = asyncio.create_task(limited.take())
        second = asyncio.create_task(limited.take())
        await asyncio.sleep(0)
        assert limited.tokens == pytest.approx(-2.0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert limited.tokens == pytest.approx(-1.0)
        # the next request waits for one token less than it would have
        third = asyncio.create_task(limited.take())
        await asyncio.sleep(0)
        assert time.sleeps == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(2.0)]
        time.release()
        await asyncio.gather(second, third)

    run(scenario())


# --- RateLimitGate -------------------------------------------------------------------------


class Echo(Provider):
    """Streams one chunk per message; built without an HTTP client."""

    def __init__(self) -> None:
        pass

    async def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        for i, _ in enumerate(request.messages):
            yield [ChatCompletionChunk(id=f"c{i}", choices=[], model="m", object="chat.completion.chunk")]


def resolved(rate_limit: RateLimit | None) -> ResolvedEndpoint:
    settings = OpenAiServiceSettings(model_id="m", rate_limit=rate_limit)
    config = EndpointConfig(
        inference_id="ep",
        task_type=TaskType.CHAT_COMPLETION,
        service_settings=settings,
        task_settings=NoTaskSettings(),
        secrets=ApiKeySecrets(api_key="k"),
    )
    endpoint = Endpoint(
        inference_id="ep",
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={"model_id": "m"},
        task_settings={},
        chunking_settings=None,
    )
    return ResolvedEndpoint(endpoint, openai.PROVIDER, config, Echo())


def unlimited_local() -> ResolvedEndpoint:
    config = EndpointConfig(
        inference_id="local",
        task_type=TaskType.CHAT_COMPLETION,
        service_settings=LlamaCppServiceSettings(),
        task_settings=NoTaskSettings(),
        secrets=NoSecrets(),
    )
    endpoint = Endpoint(
        inference_id="local",
        task_type=TaskType.CHAT_COMPLETION,
        service="llamacpp",
        service_settings={},
        task_settings={},
        chunking_settings=None,
    )
    return ResolvedEndpoint(endpoint, llamacpp.PROVIDER, config, Echo())


def test_requests_per_minute() -> None:
    assert requests_per_minute(resolved(RateLimit(requests_per_minute=30)).config) == 30
    assert requests_per_minute(resolved(None).config) is None
    assert requests_per_minute(unlimited_local().config) is None


def test_one_bucket_per_catalog_entry() -> None:
    time = FakeTime()
    gate = RateLimitGate(clock=time.clock, sleep=time.sleep)
    first, second = resolved(RateLimit(requests_per_minute=120)), resolved(RateLimit(requests_per_minute=120))
    bucket = gate.bucket(first)
    assert bucket is not None
    assert (bucket.rate, bucket.capacity) == (2.0, 2.0)
    assert gate.bucket(first) is bucket
    assert gate.bucket(second) is not bucket  # an equal but distinct entry (a new stored version)


def test_no_bucket_without_a_rate_limit() -> None:
    gate = RateLimitGate(clock=FakeTime().clock)
    assert gate.bucket(resolved(None)) is None
    assert gate.bucket(unlimited_local()) is None


def test_the_bucket_goes_with_its_entry() -> None:
    gate = RateLimitGate(clock=FakeTime().clock)
    entry = resolved(RateLimit(requests_per_minute=60))
    bucket = gate.bucket(entry)
    assert bucket is not None
    gone = weakref.ref(bucket)
    del bucket
    assert gone() is not None  # the gate keeps it while the entry lives
    del entry
    gc.collect(0)  # refcounting frees it already; a young-generation pass covers any cycle
    assert gone() is None


def test_the_gate_takes_a_token_before_the_provider_is_called() -> None:
    async def scenario() -> None:
        time = FakeTime(block=False)
        gate = RateLimitGate(clock=time.clock, sleep=time.sleep)
        entry = resolved(RateLimit(requests_per_minute=60))
        calls: list[str] = []

        def inner(
            target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
        ) -> ChunkStream:
            calls.append(target.config.inference_id)
            return target.provider.stream_chat(config, request)

        handler = gate.stream(inner)
        request = ChatCompletionRequest(messages=[UserMessage(content="a"), UserMessage(content="b")])
        first = [batch async for batch in handler(entry, entry.config, request)]
        assert [[c.id for c in batch] for batch in first] == [["c0"], ["c1"]]
        assert time.sleeps == []
        second = [batch async for batch in handler(entry, entry.config, request)]
        assert second == first
        assert time.sleeps == [pytest.approx(1.0)]  # the second request waited for its token
        assert calls == ["ep", "ep"]

    run(scenario())


def test_the_gate_passes_unlimited_endpoints_straight_through() -> None:
    async def scenario() -> None:
        time = FakeTime(block=False)
        gate = RateLimitGate(clock=time.clock, sleep=time.sleep)
        entry = unlimited_local()

        def inner(
            target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
        ) -> ChunkStream:
            return target.provider.stream_chat(config, request)

        request = ChatCompletionRequest(messages=[UserMessage(content="a")])
        for _ in range(5):
            assert len([b async for b in gate.stream(inner)(entry, entry.config, request)]) == 1
        assert time.sleeps == []

    run(scenario())


def test_the_gate_uses_the_loop_clock_by_default() -> None:
    async def scenario() -> None:
        gate = RateLimitGate()
        bucket = gate.bucket(resolved(RateLimit(requests_per_minute=60)))
        assert bucket is not None
        assert bucket.updated == pytest.approx(asyncio.get_running_loop().time(), abs=1.0)

    run(scenario())


def test_unary_calls_take_a_token_too() -> None:
    """Embedding batches and rerank calls are rate limited like chats."""

    async def scenario() -> None:
        time = FakeTime(block=False)
        gate = RateLimitGate(clock=time.clock, sleep=time.sleep)
        entry = resolved(RateLimit(requests_per_minute=60))
        calls: list[str] = []

        async def inner(
            target: ResolvedEndpoint, config: EndpointConfig, request: UnaryRequest
        ) -> UnaryResult:
            calls.append(config.inference_id)
            return RerankResult(ranked=[])

        handler = gate.unary(inner)
        request = RerankRequest(query="q", input=["a"])
        assert await handler(entry, entry.config, request) == RerankResult(ranked=[])
        assert time.sleeps == []
        await handler(entry, entry.config, request)
        assert time.sleeps == [pytest.approx(1.0)]
        assert calls == ["ep", "ep"]

    run(scenario())
