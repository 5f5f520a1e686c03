"""Which failures are retried, how long the waits are, and the one budget they share."""

from __future__ import annotations

import time

import pytest

from inference_service.client.retry import GRACE, Attempts


def test_retried_statuses_and_connection_failures() -> None:
    for status in (429, 502, 503, 504, None):
        assert Attempts(60, 2).next_delay(status, 0) == 0, status
    for status in (400, 401, 403, 404, 408, 422, 500, 501):
        assert Attempts(60, 2).next_delay(status, 0) is None, status


def test_a_conflict_is_retried_only_when_the_service_says_when() -> None:
    """409 with Retry-After: the call's idempotency key is still held by its first attempt."""
    assert Attempts(60, 2).next_delay(409, 1.0) == 1.0
    assert Attempts(60, 2).next_delay(409, 0) == 0
    assert Attempts(60, 2).next_delay(409) is None  # a version conflict, an endpoint in use
    assert Attempts(60, 0).next_delay(409, 1.0) is None
    assert Attempts(0.5, 2).next_delay(409, 1.0) is None  # past the call's budget


def test_at_most_max_retries() -> None:
    attempts = Attempts(60, 2)
    assert attempts.next_delay(503, 0) == 0 and attempts.next_delay(None, 0) == 0
    assert attempts.next_delay(503, 0) is None and attempts.made == 2
    assert Attempts(60, 0).next_delay(None) is None


def test_exponential_backoff_with_jitter() -> None:
    attempts = Attempts(600, 10)
    delays = [attempts.next_delay(None) or -1.0 for _ in range(6)]
    for made, delay in enumerate(delays):
        ceiling = min(8.0, 0.5 * 2**made)
        assert ceiling * 0.75 <= delay <= ceiling, (made, delay)


def test_no_wait_past_the_deadline() -> None:
    attempts = Attempts(1.0, 5)
    assert attempts.next_delay(429, 2.0) is None  # Retry-After beyond the budget: no retry
    assert attempts.made == 0
    assert attempts.next_delay(429, 0.1) == 0.1


def test_timeouts_follow_the_budget() -> None:
    attempts = Attempts(2.0, 2, now=time.monotonic() - 0.5)
    assert 1.4 <= attempts.remaining() <= 1.5
    timeout = attempts.network_timeout()
    assert timeout.read is not None and 1.4 + GRACE <= timeout.read <= 1.5 + GRACE
    # the service is told the whole budget, on every attempt alike (its idempotency check
    # compares the query: a retry must be the same request)
    assert attempts.deadline_param() == "2000ms"
    spent = Attempts(1.0, 2, now=time.monotonic() - 5)
    assert spent.remaining() == 0 and spent.deadline_param() == "1000ms"
    assert Attempts(0.0001, 0).deadline_param() == "1ms"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_replaces_the_backoff(status: int) -> None:
    assert Attempts(60, 2).next_delay(status, 3.0) == 3.0
