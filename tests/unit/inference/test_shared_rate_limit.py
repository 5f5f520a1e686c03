"""The shared rate limit (inference_service.inference.shared_rate_limit) on the local Redis: two
instances stand for two workers (or nodes) on one prefix; an unreachable Redis (a server that
closes every connection at once, counting them) shows the fallback policy. The rates are low
(one token a minute), so a test's own duration accrues nothing that changes what it checks."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference import shared_rate_limit
from inference_service.inference.rate_limit import RateLimitGate
from inference_service.inference.record import begin_request, current_record
from inference_service.inference.shared_rate_limit import RETRY_AFTER_S, SharedRateLimits
from inference_service.model.chat import ChatCompletionRequest, UserMessage
from inference_service.providers.base import ChunkStream, EndpointConfig
from inference_service.providers.schema import RateLimit
from tests.unit.inference.test_rate_limit import FakeTime, resolved

REDIS_URL = "redis://127.0.0.1:6379/0"
PER_MINUTE = 1 / 60  # tokens per second at requests_per_minute = 1


def inner(target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
    return target.provider.stream_chat(config, request)


def with_redis(scenario: Callable[[Redis, str], Awaitable[None]]) -> None:
    """Run ``scenario(client, prefix)`` with a unique prefix, deleting its keys afterwards."""

    async def main() -> None:
        client = Redis.from_url(REDIS_URL)
        prefix = f"test-{uuid.uuid4().hex}:"
        try:
            await scenario(client, prefix)
        finally:
            keys = [name async for name in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(main())


def test_two_workers_share_one_bucket() -> None:
    async def scenario(client: Redis, prefix: str) -> None:
        first, second = SharedRateLimits(client, prefix), SharedRateLimits(client, prefix)
        assert await first.take("ep", PER_MINUTE * 2, 2.0) == 0.0
        assert await second.take("ep", PER_MINUTE * 2, 2.0) == 0.0
        # the burst is spent for both: the next waits ~30 s wherever it asks
        assert await first.take("ep", PER_MINUTE * 2, 2.0) == pytest.approx(30.0, abs=0.5)
        assert await second.take("ep", PER_MINUTE * 2, 2.0) == pytest.approx(60.0, abs=0.5)
        # another endpoint has a bucket of its own
        assert await second.take("other", PER_MINUTE, 1.0) == 0.0

    with_redis(scenario)


def test_the_bucket_is_one_expiring_key_under_the_prefix() -> None:
    async def scenario(client: Redis, prefix: str) -> None:
        limits = SharedRateLimits(client, prefix)
        await limits.take("team:ep", PER_MINUTE, 1.0)
        assert [name async for name in client.scan_iter(match=prefix + "*")] == [
            f"{prefix}rate_limit:team:ep".encode()
        ]
        # empty now: it expires once it would have refilled (60 s), plus a second
        assert 59_000 < await client.pttl(f"{prefix}rate_limit:team:ep") <= 61_000

    with_redis(scenario)


def test_a_returned_reservation_shortens_the_next_wait() -> None:
    async def scenario(client: Redis, prefix: str) -> None:
        limits = SharedRateLimits(client, prefix)
        assert await limits.take("ep", PER_MINUTE, 1.0) == 0.0
        assert await limits.take("ep", PER_MINUTE, 1.0) == pytest.approx(60.0, abs=0.5)
        limits.give_back("ep", PER_MINUTE, 1.0)
        await limits.close()  # the refund runs in the background
        assert await limits.take("ep", PER_MINUTE, 1.0) == pytest.approx(60.0, abs=0.5)

    with_redis(scenario)


def test_a_changed_rate_applies_at_once() -> None:
    async def scenario(client: Redis, prefix: str) -> None:
        limits = SharedRateLimits(client, prefix)
        assert await limits.take("ep", 10.0, 10.0) == 0.0  # 600 a minute: 9 left
        # now 1 a minute: the 9 tokens left are clipped to the new capacity, 1
        assert await limits.take("ep", PER_MINUTE, 1.0) == 0.0
        assert await limits.take("ep", PER_MINUTE, 1.0) == pytest.approx(60.0, abs=0.5)

    with_redis(scenario)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Unreachable:
    """A Redis that drops every connection: ``connections`` counts the attempts."""

    def __init__(self) -> None:
        self.connections = 0

    async def _drop(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


@asynccontextmanager
async def unreachable() -> AsyncIterator[tuple[SharedRateLimits, Clock, Unreachable]]:
    dropper = Unreachable()
    server = await asyncio.start_server(dropper._drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
    clock = Clock()
    try:
        yield SharedRateLimits(client, "x:", clock=clock), clock, dropper
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


def test_an_unreachable_redis_falls_back_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=shared_rate_limit.log.name)

    async def scenario() -> None:
        async with unreachable() as (limits, clock, redis):
            assert await limits.take("ep", PER_MINUTE, 1.0) is None
            assert redis.connections >= 1
            [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert "Redis is unreachable for the shared rate limits" in warning.getMessage()
            assert "ConnectionError" in warning.getMessage()
            assert "1 request(s)" in warning.getMessage()
            # within RETRY_AFTER_S Redis is not asked again, and no second warning comes
            clock.now += RETRY_AFTER_S / 2
            asked = redis.connections
            assert await limits.take("ep", PER_MINUTE, 1.0) is None
            assert redis.connections == asked
            clock.now += RETRY_AFTER_S
            assert await limits.take("ep", PER_MINUTE, 1.0) is None
            assert redis.connections > asked
            assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
            # a minute after the first warning, the next says how many fell back meanwhile
            clock.now += shared_rate_limit.WARN_EVERY_S
            assert await limits.take("ep", PER_MINUTE, 1.0) is None
            second = [r for r in caplog.records if r.levelno == logging.WARNING][1]
            assert "3 request(s)" in second.getMessage()

    asyncio.run(scenario())


def test_the_gate_falls_back_to_the_workers_own_bucket() -> None:
    async def scenario() -> None:
        async with unreachable() as (limits, _, _):
            time = FakeTime(block=False)
            gate = RateLimitGate(shared=limits, clock=time.clock, sleep=time.sleep)
            entry = resolved(RateLimit(requests_per_minute=60))

            request = ChatCompletionRequest(messages=[UserMessage(content="a")])
            begin_request()
            assert len([b async for b in gate.stream(inner)(entry, entry.config, request)]) == 1
            assert current_record().rate_limit_fallback
            assert time.sleeps == []
            begin_request()
            assert len([b async for b in gate.stream(inner)(entry, entry.config, request)]) == 1
            assert time.sleeps == [pytest.approx(1.0)]  # the local bucket: one a second
            assert current_record().rate_limit_fallback

    asyncio.run(scenario())


def test_the_gate_waits_for_the_shared_token_and_returns_it_when_cancelled() -> None:
    async def scenario(client: Redis, prefix: str) -> None:
        limits = SharedRateLimits(client, prefix)
        time = FakeTime()
        gate = RateLimitGate(shared=limits, clock=time.clock, sleep=time.sleep)
        entry = resolved(RateLimit(requests_per_minute=1))

        async def one() -> int:
            request = ChatCompletionRequest(messages=[UserMessage(content="a")])
            return len([b async for b in gate.stream(inner)(entry, entry.config, request)])

        assert await one() == 1
        assert time.sleeps == []
        waiter = asyncio.create_task(one())
        while not time.sleeps:
            await asyncio.sleep(0.01)
        assert time.sleeps == [pytest.approx(60.0, abs=0.5)]
        assert not current_record().rate_limit_fallback
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await limits.close()
        # the reservation went back: another worker waits one minute, not two
        assert await SharedRateLimits(client, prefix).take("ep", PER_MINUTE, 1.0) == pytest.approx(
            60.0, abs=0.5
        )

    with_redis(scenario)
