"""``rate_limit.requests_per_minute``, enforced per endpoint in each worker, as Elasticsearch
queues requests to respect it.

A token bucket per endpoint: tokens accrue evenly at ``requests_per_minute / 60`` per second
and accumulate up to one second's worth (so a burst is allowed, never a minute's). A request
takes a token; when none is left it reserves the next one and sleeps until it accrues, so
waiting requests go in arrival order. The wait counts against the request's ``timeout``
(the deadline covers queueing); a request that gives up (deadline, disconnect) returns its
reservation. With N workers the service as a whole allows up to N times the rate.
"""

from __future__ import annotations

import asyncio

from inference_service.model.endpoint import Endpoint


class _Bucket:
    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.updated = asyncio.get_running_loop().time()

    async def take(self) -> None:
        now = asyncio.get_running_loop().time()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1.0
        if self.tokens >= 0:
            return
        try:
            await asyncio.sleep(-self.tokens / self.rate)
        except asyncio.CancelledError:
            self.tokens += 1.0
            raise


class RateLimiter:
    """One bucket per endpoint id and rate (a changed rate starts a fresh bucket)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, float], _Bucket] = {}

    async def acquire(self, endpoint: Endpoint) -> None:
        limit = endpoint.service_settings.get("rate_limit")
        per_minute = limit.get("requests_per_minute") if isinstance(limit, dict) else None
        if not per_minute:
            return
        key = (endpoint.inference_id, float(per_minute))
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(per_minute))
        await bucket.take()
