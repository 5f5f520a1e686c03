"""One worker's usage counts since its last flush: (hour, endpoint, key) → requests, errors,
input tokens, output tokens.

:meth:`UsageAccounts.add` runs once per request on the hot path (from
:class:`~inference_service.observe.observers.Observers`), so it does a clock read, a float
comparison, two dict lookups on strings the request already holds and four integer adds: no
tuple key, no I/O, and a new object only the first time a (hour, endpoint, key) is seen in a
flush interval. A request counts in the hour (UTC, wall clock) it finished in; the current
hour's table is kept at hand so the hour is not recomputed per request. Only requests that
resolved an endpoint count (management calls are not usage).

Everything runs on the worker's event loop thread, and :meth:`take` swaps the tables out in one
step, so a request finishing while a flush is being written is simply counted for the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from inference_service.inference.record import RequestRecord
from inference_service.store.usage import Usage

HOUR_S = 3600
_NEVER = float("-inf")


class Counts:
    __slots__ = ("errors", "input_tokens", "output_tokens", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.input_tokens = 0
        self.output_tokens = 0


Table = dict[str, dict[str, Counts]]
"""inference id → API key id (``""``: no key) → counts, for one hour."""


class UsageAccounts:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._hours: dict[int, Table] = {}
        self._current: Table = {}
        self._start = self._end = _NEVER

    def add(self, record: RequestRecord) -> None:
        """Count one finished request (nothing when it resolved no endpoint). An error is a
        request that failed (its record names an error type) or answered with a 4xx or 5xx."""
        target = record.target
        if target is None:
            return
        now = self._clock()
        if not self._start <= now < self._end:
            self._enter(now)
        inference_id = target.endpoint.inference_id
        by_key = self._current.get(inference_id)
        if by_key is None:
            by_key = self._current[inference_id] = {}
        key_id = record.api_key_id or ""
        counts = by_key.get(key_id)
        if counts is None:
            counts = by_key[key_id] = Counts()
        counts.requests += 1
        if record.error_type is not None or record.status >= 400:
            counts.errors += 1
        counts.input_tokens += record.input_tokens
        counts.output_tokens += record.output_tokens

    def _enter(self, now: float) -> None:
        """Make the hour of ``now`` current (also when the clock stepped back)."""
        hour = int(now // HOUR_S)
        self._current = self._hours.setdefault(hour, {})
        self._start = float(hour * HOUR_S)
        self._end = self._start + HOUR_S

    def take(self) -> list[Usage]:
        """Everything counted so far, one row per (hour, endpoint, key); the accounts start
        again from zero."""
        hours, self._hours = self._hours, {}
        self._current = {}
        self._start = self._end = _NEVER
        return [
            Usage(
                datetime.fromtimestamp(hour * HOUR_S, UTC),
                inference_id,
                key_id,
                counts.requests,
                counts.errors,
                counts.input_tokens,
                counts.output_tokens,
            )
            for hour, table in hours.items()
            for inference_id, by_key in table.items()
            for key_id, counts in by_key.items()
        ]

    def restore(self, rows: Iterable[Usage]) -> None:
        """Add back rows :meth:`take` gave out and that could not be written, so the next
        flush writes them with whatever was counted meanwhile."""
        for row in rows:
            assert row.period is not None and row.inference_id is not None and row.api_key_id is not None
            hour = int(row.period.timestamp() // HOUR_S)
            by_key = self._hours.setdefault(hour, {}).setdefault(row.inference_id, {})
            counts = by_key.get(row.api_key_id)
            if counts is None:
                counts = by_key[row.api_key_id] = Counts()
            counts.requests += row.requests
            counts.errors += row.errors
            counts.input_tokens += row.input_tokens
            counts.output_tokens += row.output_tokens

    def pending(self) -> int:
        """How many (hour, endpoint, key) rows are waiting to be written."""
        return sum(len(by_key) for table in self._hours.values() for by_key in table.values())
