"""The circuit breaker of a router target (providers.router.breaker), on a clock moved by hand."""

from __future__ import annotations

from inference_service.providers.router.breaker import Breaker, BreakerState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(breaker: Breaker) -> BreakerState:
    """Read afresh each time (the state moves with the clock, not only with calls)."""
    return breaker.state


def test_it_opens_after_the_threshold_of_consecutive_failures() -> None:
    clock = Clock()
    breaker = Breaker(3, 30.0, clock)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()  # an answer resets the count
    breaker.failed()
    breaker.failed()
    assert state(breaker) is BreakerState.CLOSED and breaker.acquire()
    breaker.failed()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.acquire()
    clock.now += 10
    assert breaker.retry_in() == 20.0 and not breaker.acquire()


def test_after_the_cooldown_one_probe_decides() -> None:
    clock = Clock()
    breaker = Breaker(1, 30.0, clock)
    breaker.failed()
    clock.now += 30
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.acquire()  # the probe
    assert not breaker.acquire()  # everyone else keeps skipping while it runs
    breaker.failed()  # the probe failed: open for another cooldown
    assert state(breaker) is BreakerState.OPEN and breaker.retry_in() == 30.0
    clock.now += 30
    assert breaker.acquire()
    breaker.succeeded()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.acquire() and breaker.acquire()


def test_a_probe_that_ends_without_a_verdict_gives_its_slot_back() -> None:
    clock = Clock()
    breaker = Breaker(1, 5.0, clock)
    breaker.failed()
    clock.now += 5
    assert breaker.acquire()
    breaker.released()
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.acquire()
