"""``rate_limit.requests_per_minute`` for the whole deployment: one token bucket per endpoint
in Redis (``redis_url``), shared by every worker and node.

The bucket is the same as the per-worker :class:`~inference_service.inference.rate_limit.TokenBucket`
(tokens accrue at ``requests_per_minute / 60`` per second up to one second's worth; a request
takes one and, when none is left, reserves the next and waits for it), kept in one Redis hash,
``<redis_key_prefix>rate_limit:<inference_id>``, and changed only by a Lua script, so a take is
atomic across every process. The script reads Redis's own clock (``TIME``): the nodes' clocks
never have to agree. The hash expires once it would have refilled, because a missing bucket is
a full one: nothing accumulates for deleted or idle endpoints. The rate and capacity travel with
every call, so a changed ``rate_limit`` applies at the next request.

**Redis unreachable: each worker falls back to its own bucket** (the limit becomes per worker,
as it is without Redis) rather than refusing with 503. The limit protects the provider's quota,
and the provider enforces that quota itself (a 429, retried before the first byte); refusing
every rate-limited request would turn a Redis outage into an inference outage. The fallback is
never silent: a warning at most once a minute per worker (with how many requests fell back),
``rate_limit=local`` in each such request's log line and the
``inference_service_rate_limit_fallbacks_total`` metric. After a failure Redis is left alone
for :data:`RETRY_AFTER_S` (a Redis that stopped answering would otherwise cost every request
the client's socket timeout), then tried again; its return is logged too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("inference_service.rate_limit")

RETRY_AFTER_S = 5.0
"""How long a worker uses its own buckets after Redis failed, before asking Redis again."""
WARN_EVERY_S = 60.0
"""At most one fallback warning per this many seconds (per worker)."""

_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = capacity
  updated = now
end
if now > updated then
  tokens = tokens + (now - updated) * rate
  updated = now
end
if tokens > capacity then tokens = capacity end
tokens = tokens - count
if tokens > capacity then tokens = capacity end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(updated))
redis.call('PEXPIRE', KEYS[1], math.ceil(((capacity - tokens) / rate + 1) * 1000))
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""
"""Accrue, then take ``count`` tokens (-1 gives one back); the seconds until the taken token
accrues (0: it was there). Numbers go back as strings: Redis truncates a Lua number to an integer."""


class SharedRateLimits:
    """The endpoints' buckets in Redis, and the fallback bookkeeping of this worker."""

    def __init__(self, redis: Redis, prefix: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self._prefix = prefix + "rate_limit:"
        self._script = redis.register_script(_TAKE)
        self._clock = clock
        self._down_until = float("-inf")
        self._warned_at = float("-inf")
        self._fallbacks = 0
        """Requests that fell back since the last warning."""
        self._refunds: set[asyncio.Task[None]] = set()

    def key(self, inference_id: str) -> str:
        return self._prefix + inference_id

    async def take(self, inference_id: str, rate: float, capacity: float) -> float | None:
        """Take (or reserve) a token of the endpoint's shared bucket: the seconds to wait for it,
        or None when Redis could not be asked (the caller uses its own bucket)."""
        if self._clock() < self._down_until:
            self._fell_back(None)
            return None
        try:
            answer = await self._script(keys=[self.key(inference_id)], args=[rate, capacity, 1])
        except (RedisError, OSError) as exc:
            self._down_until = self._clock() + RETRY_AFTER_S
            self._fell_back(exc)
            return None
        if self._fallbacks or self._warned_at > float("-inf"):
            self._recovered()
        return float(answer)

    def give_back(self, inference_id: str, rate: float, capacity: float) -> None:
        """Return a reserved token (its request gave up waiting), in the background: the
        request's answer (a 408, a cancelled stream) does not wait for Redis."""
        task = asyncio.create_task(self._give_back(inference_id, rate, capacity))
        self._refunds.add(task)
        task.add_done_callback(self._refunds.discard)

    async def _give_back(self, inference_id: str, rate: float, capacity: float) -> None:
        try:
            await self._script(keys=[self.key(inference_id)], args=[rate, capacity, -1])
        except (RedisError, OSError) as exc:
            # the bucket stays one token short until it refills: stricter, never looser
            log.warning("returning a rate-limit token of [%s] to Redis failed: %s", inference_id, exc)

    async def close(self) -> None:
        """Wait for the refunds under way (the Redis client closes after this)."""
        if self._refunds:
            await asyncio.gather(*self._refunds, return_exceptions=True)

    def _fell_back(self, exc: BaseException | None) -> None:
        self._fallbacks += 1
        now = self._clock()
        if now - self._warned_at < WARN_EVERY_S:
            return
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "it failed moments ago"
        log.warning(
            "Redis is unreachable for the shared rate limits (%s): this worker enforces them with "
            "its own buckets (%d request(s) since the last warning)",
            reason,
            self._fallbacks,
        )
        self._warned_at = now
        self._fallbacks = 0

    def _recovered(self) -> None:
        if self._fallbacks:
            log.info(
                "Redis answers again: rate limits are shared again (%d request(s) used this "
                "worker's own buckets meanwhile)",
                self._fallbacks,
            )
        else:
            log.info("Redis answers again: rate limits are shared again")
        self._fallbacks = 0
        self._warned_at = float("-inf")
