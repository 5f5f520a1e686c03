"""The record of one routed request: which targets were tried, how each went, which answered.

The router fills it in; the faces read it to write the ``X-Inference-Endpoint`` header. It
travels in a context variable rather than through every signature between the face and the
router: the request's task carries it from the router's call back to the response, and a
request to an endpoint that is not a router never sets it (reading it costs one lookup per
response, nothing per chunk). Work a request fans out to tasks (several completion inputs)
must :func:`open_route` before it fans out, so every task adds to the same record.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

ROUTE_HEADER = "X-Inference-Endpoint"
_RAW_HEADER = ROUTE_HEADER.lower().encode("latin-1")


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

    @property
    def header_value(self) -> str | None:
        return ", ".join(self.answered_by) if self.answered_by else None

    def describe(self) -> str:
        return ", ".join(a.describe() for a in self.attempts) or "none"


_CURRENT: ContextVar[Route | None] = ContextVar("inference_service.route", default=None)


def current_route() -> Route | None:
    return _CURRENT.get()


def open_route(router: str) -> Route:
    """This request's record (created on first use)."""
    route = _CURRENT.get()
    if route is None:
        route = Route(router)
        _CURRENT.set(route)
    return route


def route_headers() -> dict[str, str]:
    """The routing header of this request's response, if it was routed (empty otherwise)."""
    route = _CURRENT.get()
    value = route.header_value if route is not None else None
    return {ROUTE_HEADER: value} if value is not None else {}


def raw_route_headers(headers: tuple[tuple[bytes, bytes], ...]) -> tuple[tuple[bytes, bytes], ...]:
    """``headers`` (raw ASGI) with the routing header added when the request was routed."""
    route = _CURRENT.get()
    value = route.header_value if route is not None else None
    if value is None:
        return headers
    return (*headers, (_RAW_HEADER, value.encode("latin-1")))
