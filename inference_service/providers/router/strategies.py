"""The order in which a router tries its targets for one request, per strategy.

- ``priority``: the targets as listed.
- ``weighted``: the first target drawn by weight, each next one drawn by weight among those
  left (so the fallbacks follow the weights too).
- ``least_latency``: by the moving average of each target's time to first byte (first chunk
  of a stream, the answer of any other task); a target without a measurement yet comes first,
  so every target gets measured. Ties keep the listed order.
- ``least_busy``: by the requests this worker has in flight on each target; ties keep the
  listed order.

Measurements are per worker and per target (every router that targets an endpoint shares
them: they describe the endpoint, not the router). Randomness is injected for tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from inference_service.providers.router.settings import RouterSettings, RouterTarget

LATENCY_WEIGHT = 0.3
"""The weight of the newest measurement in the moving average."""


@dataclass(slots=True)
class TargetStats:
    latency: float | None = None
    """Moving average of the time to first byte, in seconds (None: never measured)."""
    in_flight: int = 0

    def observe(self, seconds: float) -> None:
        previous = self.latency
        self.latency = seconds if previous is None else previous + LATENCY_WEIGHT * (seconds - previous)


class TargetStatsTable:
    """Every target's :class:`TargetStats` in this worker, by inference id."""

    def __init__(self) -> None:
        self._stats: dict[str, TargetStats] = {}

    def __getitem__(self, inference_id: str) -> TargetStats:
        stats = self._stats.get(inference_id)
        if stats is None:
            stats = self._stats[inference_id] = TargetStats()
        return stats


def order(settings: RouterSettings, stats: TargetStatsTable, rng: random.Random) -> list[str]:
    """The target ids in the order this request tries them."""
    targets = settings.targets
    if settings.strategy == "priority":
        return [t.inference_id for t in targets]
    if settings.strategy == "weighted":
        return _weighted(targets, rng)
    if settings.strategy == "least_latency":
        return [t.inference_id for t in sorted(targets, key=lambda t: _latency_key(stats[t.inference_id]))]
    return [t.inference_id for t in sorted(targets, key=lambda t: stats[t.inference_id].in_flight)]


def _latency_key(stats: TargetStats) -> float:
    return -1.0 if stats.latency is None else stats.latency


def _weighted(targets: list[RouterTarget], rng: random.Random) -> list[str]:
    left = [(t.inference_id, t.weight or 1) for t in targets]
    picked: list[str] = []
    while left:
        point = rng.random() * sum(weight for _, weight in left)
        for index, (inference_id, weight) in enumerate(left):
            point -= weight
            if point < 0 or index == len(left) - 1:
                picked.append(inference_id)
                del left[index]
                break
    return picked
