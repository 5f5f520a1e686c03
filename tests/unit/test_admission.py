"""The admission pacer: at most ``per_round`` admissions per event-loop round, FIFO, no slot held."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from inference_service.admission import AdmissionPacer

LOOPS = pytest.mark.parametrize(
    "new_loop", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"]
)
"""The service runs on uvloop where it is installed: a round must mean the same on both."""


def _run(new_loop: Callable[[], asyncio.AbstractEventLoop], case: Coroutine[Any, Any, None]) -> None:
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(case)


async def _rounds_of(pacer: AdmissionPacer, arrivals: int, rounds: int) -> list[list[int]]:
    """Which arrivals were admitted in each of ``rounds`` loop rounds (a round = one
    ``sleep(0)`` of the observer)."""
    admitted: list[int] = []

    async def arrive(n: int) -> None:
        await pacer.admit()
        admitted.append(n)

    tasks = [asyncio.create_task(arrive(n)) for n in range(arrivals)]
    per_round: list[list[int]] = []
    seen = 0
    for _ in range(rounds):
        await asyncio.sleep(0)
        per_round.append(admitted[seen:])
        seen = len(admitted)
    await asyncio.gather(*tasks)
    return per_round


@LOOPS
def test_a_burst_is_admitted_a_few_per_round_in_arrival_order(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    _run(new_loop, _a_burst_is_admitted_a_few_per_round_in_arrival_order())


async def _a_burst_is_admitted_a_few_per_round_in_arrival_order() -> None:
    pacer = AdmissionPacer(3)
    rounds = await _rounds_of(pacer, 10, 12)
    admitted = [n for batch in rounds for n in batch]
    assert admitted == list(range(10))  # first come, first served
    assert max(len(batch) for batch in rounds) == 3
    assert [len(batch) for batch in rounds if batch] == [3, 3, 3, 1]
    assert pacer.waiting == 0


@LOOPS
def test_below_the_limit_nothing_waits(new_loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
    _run(new_loop, _below_the_limit_nothing_waits())


async def _below_the_limit_nothing_waits() -> None:
    pacer = AdmissionPacer(8)
    rounds = await _rounds_of(pacer, 5, 2)
    assert rounds[0] == [0, 1, 2, 3, 4]  # all in the round they arrived


@LOOPS
def test_an_admitted_request_holds_nothing(new_loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
    _run(new_loop, _an_admitted_request_holds_nothing())


async def _an_admitted_request_holds_nothing() -> None:
    """Admission is not a concurrency limit: requests that were let in and now wait (for a
    provider, say) do not keep later ones out."""
    pacer = AdmissionPacer(1)
    release = asyncio.Event()
    inside = 0

    async def request() -> None:
        nonlocal inside
        await pacer.admit()
        inside += 1
        await release.wait()

    tasks = [asyncio.create_task(request()) for _ in range(5)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert inside == 5
    release.set()
    await asyncio.gather(*tasks)


@LOOPS
def test_a_client_that_leaves_while_queued_is_skipped(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    _run(new_loop, _a_client_that_leaves_while_queued_is_skipped())


async def _a_client_that_leaves_while_queued_is_skipped() -> None:
    pacer = AdmissionPacer(1)
    order: list[str] = []

    async def request(name: str) -> None:
        await pacer.admit()
        order.append(name)

    first = asyncio.create_task(request("first"))
    leaving = asyncio.create_task(request("leaving"))
    last = asyncio.create_task(request("last"))
    await asyncio.sleep(0)  # all three have arrived: first admitted, two queued
    leaving.cancel()
    await asyncio.gather(first, last)
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert order == ["first", "last"]
    assert pacer.waiting == 0
