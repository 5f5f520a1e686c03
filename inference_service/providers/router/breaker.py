"""The circuit breaker of one router target, per worker.

Closed: requests go through; ``failures`` consecutive failures open it. Open: the target is
skipped until ``cooldown`` has passed. Then half-open: exactly one request (the probe) may
try it while the others keep skipping it; the probe's success closes the breaker, its
failure opens it for another cooldown. An answer that is not a failure (a success, or a
caller's 4xx: the target is up) resets the count.

State lives in the worker's memory: with N workers each keeps its own breakers (a target
failing for all of them is opened by each after its own N failures). The clock is injected
so tests can move time.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

Clock = Callable[[], float]


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    def __init__(self, failures: int, cooldown: float, clock: Clock) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def parameters(self) -> tuple[int, float]:
        return self._threshold, self._cooldown

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._clock() - self._opened_at >= self._cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def acquire(self) -> bool:
        """May a request try the target now? Takes the probe slot when half-open."""
        if self._opened_at is None:
            return True
        if self._probing or self._clock() - self._opened_at < self._cooldown:
            return False
        self._probing = True
        return True

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when it would now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._cooldown - self._clock())

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._probing = False

    def released(self) -> None:
        """The request ended without a verdict (cancelled): a probe slot is given back."""
        self._probing = False
