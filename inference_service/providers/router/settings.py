"""The ``router`` service's settings: which endpoints it routes to, how, and when it fails over.

Validated strictly on PUT and ``_update`` like every service's settings (one 400 listing the
problems, in Elasticsearch's words); whether the targets exist, are not routers and share the
router's task type is checked against the store by :mod:`inference_service.providers.router.references`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec

from inference_service.errors import InferenceServiceError
from inference_service.model.time_value import parse_time_value
from inference_service.providers.schema import CHECK_MARKER, PositiveInt, SettingsStruct

Strategy = Literal["priority", "weighted", "least_latency", "least_busy"]

FailureKind = Literal["connection", "timeout", "429", "5xx"]
"""What a failed attempt was: the connection to the provider failed (``connection``), the
provider or the router's ``attempt_timeout`` timed out (``timeout``), the provider throttled
(``429``) or failed (``5xx``, which includes answers the service could not read)."""

FAILURE_KINDS: tuple[FailureKind, ...] = ("connection", "timeout", "429", "5xx")


def _time_value_problems(setting: str) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if not isinstance(value, str):
            return [f"[service_settings] [{setting}] must be a time value such as [30s], got [{value}]"]
        try:
            seconds = parse_time_value(value, setting)
        except InferenceServiceError as exc:
            return [f"[service_settings] {exc.reason}"]
        if seconds is None:
            return [f"[service_settings] [{setting}] must be a positive time value, got [{value}]"]
        return []

    return check


AttemptTimeout = Annotated[str, msgspec.Meta(extra={CHECK_MARKER: _time_value_problems("attempt_timeout")})]


class RouterTarget(SettingsStruct):
    inference_id: Annotated[str, msgspec.Meta(min_length=1)]
    weight: PositiveInt | None = None
    """The target's share with the ``weighted`` strategy (default 1); other strategies take none."""


class CircuitBreaker(SettingsStruct, omit_defaults=False):
    """``failures`` consecutive failures open a target's breaker for ``cooldown``; then one
    request probes it (half-open): success closes it, failure opens it again."""

    failures: PositiveInt = 5
    cooldown: str = "30s"

    def __post_init__(self) -> None:
        # a nested Struct is converted as a whole, so its checks live here (CHECK_MARKER is per field)
        problems = _time_value_problems("cooldown")(self.cooldown)
        if problems:
            raise ValueError(problems[0].removeprefix("[service_settings] "))

    @property
    def cooldown_seconds(self) -> float:
        return parse_time_value(self.cooldown, "cooldown") or 30.0


class RouterSettings(SettingsStruct):
    strategy: Strategy
    targets: Annotated[list[RouterTarget], msgspec.Meta(min_length=1)]
    fallback_on: list[FailureKind] = msgspec.field(default_factory=lambda: list(FAILURE_KINDS))
    max_attempts: PositiveInt | None = None
    """At most this many targets per request (default: every target once)."""
    attempt_timeout: AttemptTimeout | None = None
    """Time one target may take to its first chunk (streams) or its answer; expiry is a
    ``timeout`` failure. Without it only the request's own deadline applies."""
    circuit_breaker: CircuitBreaker = msgspec.field(default_factory=CircuitBreaker)

    def __post_init__(self) -> None:
        ids = [t.inference_id for t in self.targets]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"[targets] lists [{', '.join(repeated)}] more than once")
        if self.strategy != "weighted":
            weighted = [t.inference_id for t in self.targets if t.weight is not None]
            if weighted:
                raise ValueError(
                    f"[weight] is only used by the [weighted] strategy, but targets [{', '.join(weighted)}] "
                    f"have one with strategy [{self.strategy}]"
                )
        if self.max_attempts is not None and self.max_attempts > len(self.targets):
            raise ValueError(
                f"[max_attempts] is [{self.max_attempts}] but the router has [{len(self.targets)}] targets; "
                "each target is tried at most once per request"
            )
        if len(set(self.fallback_on)) != len(self.fallback_on):
            raise ValueError(f"[fallback_on] lists a failure kind more than once: {self.fallback_on}")

    @property
    def attempts(self) -> int:
        return self.max_attempts or len(self.targets)

    @property
    def attempt_seconds(self) -> float | None:
        return parse_time_value(self.attempt_timeout, "attempt_timeout") if self.attempt_timeout else None
