"""The record of one routed request: which targets were tried, how each went, which answered.

The router fills it in, in the request's :class:`~inference_service.inference.record.RequestRecord`;
the faces turn it into the ``X-Inference-Endpoint`` header. A request to an endpoint that is
not a router never opens one. Work a request fans out to tasks (several completion inputs)
shares the request's record; outside a request (unit tests) :func:`open_route` before the
fan-out keeps every task on the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inference_service.inference.record import current_record, peek_record


@dataclass(slots=True)
class Attempt:
    target: str
    outcome: str
    """``ok``, a failure kind (``connection``, ``timeout``, ``429``, ``5xx``), ``refused`` (a
    caller's error, never failed over), ``skipped`` (circuit open) or ``unavailable``."""
    seconds: float | None = None
    detail: str | None = None

    def describe(self) -> str:
        text = f"{self.target}={self.outcome}"
        if self.seconds is not None:
            text += f" {self.seconds * 1000:.0f}ms"
        if self.detail:
            text += f" ({self.detail})"
        return text


@dataclass(slots=True)
class Route:
    router: str
    attempts: list[Attempt] = field(default_factory=list)
    answered_by: list[str] = field(default_factory=list)
    """The targets whose answer (or error) the client gets; more than one only when the
    request fans out (a completion of several inputs)."""

    def answered(self, target: str) -> None:
        if target not in self.answered_by:
            self.answered_by.append(target)

    def describe(self) -> str:
        return ", ".join(a.describe() for a in self.attempts) or "none"


def current_route() -> Route | None:
    record = peek_record()
    return record.route if record is not None else None


def open_route(router: str) -> Route:
    """This request's record (created on first use)."""
    record = current_record()
    if record.route is None:
        record.route = Route(router)
    return record.route
