"""When a failed attempt is tried again, and how long each attempt may take.

One :class:`Attempts` per call. The rules:

- retried: a connection that failed before any answer (refused, reset, closed without a
  response) and the statuses 429, 502, 503 and 504; a 409 only when it carries
  ``Retry-After`` (the service's "this ``Idempotency-Key``'s first request still runs": the
  call's own earlier attempt, whose answer the retry then gets replayed; the other conflicts
  carry none); nothing else (a 500 is a bug to report, a 4xx will not change). Only before the
  first byte of an answer: once a 2xx has begun, a broken connection is an error, never a
  second request. A ``PUT`` or ``DELETE`` whose connection broke after it was sent is not
  sent again either (:func:`~inference_service.client.transport.resendable`): it carries no
  idempotency key, and the service may have acted on it.
- at most ``max_retries`` retries, each after an exponential backoff (0.5 s, 1 s, 2 s ... up
  to 8 s) with jitter (up to a quarter less, so clients that failed together spread out), or
  after the service's ``Retry-After`` when it sent one;
- all inside the call's ``timeout``: it is one budget for every attempt and every wait. A
  retry whose wait would end past it is not made (the last error is raised at once), and each
  attempt's network timeout is what is left of it. The service is told the budget through the
  ``timeout`` query parameter, so that it answers 408 itself instead of going silent: the
  whole budget, the same on every attempt, because the service's idempotency check compares
  the query too (a retry sending what is left would be a 422 "key used for another request").
  A retry that runs out of time therefore ends as the SDK's timeout, not the service's 408.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import httpx

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BASE_DELAY = 0.5
MAX_DELAY = 8.0
GRACE = 1.0
"""How much longer than its own deadline the SDK waits for the service to report the timeout."""


IN_FLIGHT = 409
"""A conflict; retried only with ``Retry-After``, which the service sends only while the call's
idempotency key is still held by its first attempt."""


def retryable(status: int | None, retry_after: float | None) -> bool:
    """Whether a failure with ``status`` (None: no answer) may be tried again."""
    if status is None or status in RETRY_STATUSES:
        return True
    return status == IN_FLIGHT and retry_after is not None


@dataclass
class Attempts:
    """The retry state of one call (``now`` is injectable for tests)."""

    timeout: float
    max_retries: int
    now: float = field(default_factory=time.monotonic)
    made: int = 0

    def __post_init__(self) -> None:
        self.deadline = self.now + self.timeout

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def network_timeout(self) -> httpx.Timeout:
        """This attempt's httpx timeout: the budget left, plus the grace for the service's 408."""
        return httpx.Timeout(self.remaining() + GRACE)

    def deadline_param(self) -> str:
        """The call's budget as an Elasticsearch time value (whole milliseconds, at least 1):
        the same on every attempt, so that each retry is the same request to the service."""
        return f"{max(1, int(self.timeout * 1000))}ms"

    def next_delay(self, status: int | None, retry_after: float | None = None) -> float | None:
        """The wait before the next attempt, or None when there is none. ``status`` is the
        failed attempt's (None: it failed to connect or got no answer); ``retry_after`` the
        service's ``Retry-After`` in seconds, if it sent one."""
        if not retryable(status, retry_after):
            return None
        if self.made >= self.max_retries:
            return None
        delay = retry_after if retry_after is not None else self.backoff()
        if time.monotonic() + delay >= self.deadline:
            return None
        self.made += 1
        return delay

    def backoff(self) -> float:
        delay: float = min(MAX_DELAY, BASE_DELAY * 2.0**self.made)
        return delay * (1 - 0.25 * random.random())
