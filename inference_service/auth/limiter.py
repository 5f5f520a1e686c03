"""Failed authentication attempts, limited per client address in each worker.

A token bucket per address (:class:`~inference_service.inference.rate_limit.TokenBucket`):
``auth_failures_per_minute`` attempts may fail in a burst, then one more per
``60 / auth_failures_per_minute`` seconds. While an address has none left, credentials it
presents that are not already verified are refused with 429 before they are looked at, so
guessing is slow; a key this worker already verified still works (nothing is being guessed,
and a client sharing the address is not locked out). Missing credentials are not attempts.

The map is bounded: past :data:`MAX_ADDRESSES` it drops the buckets that have refilled, then
the oldest. With N workers an address may fail N times as often.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from inference_service.errors import AuthenticationRateLimitError
from inference_service.inference.rate_limit import Clock, TokenBucket

log = logging.getLogger("inference_service.auth")
MAX_ADDRESSES = 10_000


class FailureLimiter:
    def __init__(self, per_minute: int, *, clock: Clock = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._blocked: dict[str, float] = {}
        """Address -> when its next attempt is accepted (clock time), while it has none left."""

    def check(self, client: str) -> None:
        """429 while ``client`` has no attempts left."""
        until = self._blocked.get(client)
        if until is None:
            return
        wait = until - self._clock()
        if wait > 0:
            raise AuthenticationRateLimitError(client, math.ceil(wait))
        del self._blocked[client]

    def failed(self, client: str) -> None:
        """Count a failed attempt from ``client``."""
        bucket = self._buckets.get(client)
        if bucket is None:
            self._prune()
            bucket = self._buckets[client] = TokenBucket(
                self._per_minute, clock=self._clock, sleep=asyncio.sleep, capacity=float(self._per_minute)
            )
        bucket.try_take()
        if bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / bucket.rate
            self._blocked[client] = self._clock() + wait
            log.warning(
                "[%s] failed to authenticate too often; refusing its attempts for %.0fs", client, wait
            )

    def _prune(self) -> None:
        if len(self._buckets) < MAX_ADDRESSES:
            return
        for client in [c for c, b in self._buckets.items() if b.full and c not in self._blocked]:
            del self._buckets[client]
        while len(self._buckets) >= MAX_ADDRESSES:
            oldest = next(iter(self._buckets))
            del self._buckets[oldest]
            self._blocked.pop(oldest, None)
