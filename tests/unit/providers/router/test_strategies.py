"""The order a router tries its targets in (providers.router.strategies), with seeded randomness."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import msgspec

from inference_service.providers.router.settings import RouterSettings
from inference_service.providers.router.strategies import TargetStatsTable, order


def settings(strategy: str, *targets: Any) -> RouterSettings:
    entries = [t if isinstance(t, dict) else {"inference_id": t} for t in targets]
    return msgspec.convert({"strategy": strategy, "targets": entries}, RouterSettings)


def test_priority_keeps_the_listed_order() -> None:
    assert order(settings("priority", "a", "b", "c"), TargetStatsTable(), random.Random(1)) == ["a", "b", "c"]


def test_weighted_first_picks_follow_the_weights_within_a_tolerance() -> None:
    routed = settings(
        "weighted",
        {"inference_id": "a", "weight": 6},
        {"inference_id": "b", "weight": 3},
        {"inference_id": "c"},
    )
    rng = random.Random(20261201)
    draws = 20_000
    firsts = Counter(order(routed, TargetStatsTable(), rng)[0] for _ in range(draws))
    for target, share in {"a": 0.6, "b": 0.3, "c": 0.1}.items():
        assert abs(firsts[target] / draws - share) < 0.015, firsts


def test_weighted_fallbacks_are_drawn_among_the_targets_left() -> None:
    routed = settings("weighted", {"inference_id": "a", "weight": 1}, {"inference_id": "b", "weight": 1})
    rng = random.Random(7)
    orders = [order(routed, TargetStatsTable(), rng) for _ in range(1000)]
    assert all(sorted(o) == ["a", "b"] for o in orders)
    assert 400 < sum(o[0] == "a" for o in orders) < 600


def test_least_latency_tries_unmeasured_targets_first_then_the_fastest() -> None:
    stats = TargetStatsTable()
    routed = settings("least_latency", "a", "b", "c")
    stats["a"].observe(0.5)
    assert order(routed, stats, random.Random(1)) == ["b", "c", "a"]
    stats["b"].observe(0.2)
    stats["c"].observe(0.1)
    assert order(routed, stats, random.Random(1)) == ["c", "b", "a"]
    for _ in range(5):
        stats["c"].observe(1.0)  # the moving average follows c getting slow
    assert order(routed, stats, random.Random(1)) == ["b", "a", "c"]


def test_the_moving_average_weighs_the_newest_measurement() -> None:
    stats = TargetStatsTable()
    stats["a"].observe(1.0)
    stats["a"].observe(2.0)
    assert stats["a"].latency == 1.3


def test_least_busy_orders_by_requests_in_flight_ties_in_listed_order() -> None:
    stats = TargetStatsTable()
    routed = settings("least_busy", "a", "b", "c")
    stats["a"].in_flight = 2
    stats["b"].in_flight = 1
    assert order(routed, stats, random.Random(1)) == ["c", "b", "a"]
    stats["c"].in_flight = 1
    assert order(routed, stats, random.Random(1)) == ["b", "c", "a"]
