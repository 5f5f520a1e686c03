"""Failed attempts per address (inference_service.auth.limiter), on a fake clock."""

from __future__ import annotations

import pytest

from inference_service.auth import limiter
from inference_service.auth.limiter import FailureLimiter
from inference_service.errors import AuthenticationRateLimitError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_per_interval() -> None:
    clock = Clock()
    failures = FailureLimiter(3, clock=clock)
    for _ in range(3):
        failures.check("10.0.0.1")
        failures.failed("10.0.0.1")
    with pytest.raises(AuthenticationRateLimitError) as limited:
        failures.check("10.0.0.1")
    assert (limited.value.status, limited.value.retry_after) == (429, "20")
    failures.check("10.0.0.2")  # another address is not affected
    clock.now += 19.5
    with pytest.raises(AuthenticationRateLimitError, match=r"retry in \[1s\]"):
        failures.check("10.0.0.1")
    clock.now += 0.5
    failures.check("10.0.0.1")  # one attempt accrued
    failures.failed("10.0.0.1")
    with pytest.raises(AuthenticationRateLimitError):
        failures.check("10.0.0.1")


def test_the_map_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limiter, "MAX_ADDRESSES", 4)
    clock = Clock()
    failures = FailureLimiter(2, clock=clock)
    for n in range(10):
        failures.failed(f"10.0.0.{n}")
    assert len(failures._buckets) <= 4
    for _ in range(3):
        failures.failed("10.9.9.9")
    clock.now += 1
    for n in range(10, 20):
        failures.failed(f"10.0.0.{n}")
    assert len(failures._buckets) <= 4
