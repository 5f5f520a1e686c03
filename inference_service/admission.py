"""Admission pacing: a burst of new requests cannot hold up the streams already running.

One worker is one event loop. When 1,000 requests arrive at once, each one's set-up (routing,
authentication, decoding and validating the body, building the provider call) is a slice of
CPU that becomes ready in the same loop round, and a round runs every ready callback before it
polls the sockets again. The chunks of the streams already running wait behind all of those
slices: their gaps stretched by hundreds of milliseconds. Nothing a request does is slow; there
are just too many slices in one round.

:class:`AdmissionPacer` lets at most ``per_round`` new requests into the app per loop round
and queues the rest in arrival order, each admitted in a later round. A round then holds a
bounded amount of set-up work, so the running streams' chunks are forwarded between rounds.
It is not a concurrency limit: an admitted request holds nothing while it waits for a
provider's connection or first token, so slow providers and slow clients never block
admission, and the service's throughput stays what it was (the same work, spread over rounds).
A request waits at most ``queued / per_round`` rounds; a client that leaves while queued is
simply skipped.
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send


class AdmissionPacer:
    """At most ``per_round`` admissions per event-loop round, the rest FIFO."""

    def __init__(self, per_round: int) -> None:
        self._per_round = per_round
        self._admitted = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._round_open = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def admit(self) -> None:
        if not self._waiting and self._admitted < self._per_round:
            self._admitted += 1
            self._open_round()
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        self._open_round()
        await turn

    def _open_round(self) -> None:
        """Count this round's admissions until the loop's next round begins."""
        if not self._round_open:
            self._round_open = True
            asyncio.get_running_loop().call_soon(self._next_round)

    def _next_round(self) -> None:
        self._round_open = False
        self._admitted = 0
        while self._waiting and self._admitted < self._per_round:
            turn = self._waiting.popleft()
            if not turn.done():  # cancelled: the client left while queued
                turn.set_result(None)
                self._admitted += 1
        if self._waiting or self._admitted:
            self._open_round()


def admission_pacer(per_round: int) -> AdmissionPacer | None:
    """The worker's one pacer (``per_round`` 0: none, and the app has no admission layer)."""
    return AdmissionPacer(per_round) if per_round else None


class AdmissionMiddleware:
    """Every HTTP request passes the pacer before the app sees it. (Pacing new connections
    before hypercorn reads them as well was tried: the running streams' gaps were no better and
    the burst cost more CPU, so hypercorn's accept and parse are left unpaced.)"""

    def __init__(self, app: ASGIApp, *, pacer: AdmissionPacer) -> None:
        self.app = app
        self._pacer = pacer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._pacer.admit()
        await self.app(scope, receive, send)
