"""What the usage API and ``inference-service usage`` share: reading ``since``/``until``
(ISO 8601 dates and datetimes, or Elasticsearch date math such as ``now-1d`` or ``now/d``),
the periods (``hour`` or ``day``, UTC) and the summaries over hourly rows.

The table holds hours, so a period is reported whole: every period that overlaps
``[since, until)`` is included with all its hours (``since`` is rounded down to the start of
its period, ``until`` up to the end of its). Summing per day happens here rather than in SQL,
where truncating a timestamp to the day is spelled differently by each dialect; the rows of a
range are few (hours times endpoints times keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from inference_service.errors import IllegalArgumentError
from inference_service.store.usage import Usage

Interval = Literal["hour", "day"]
INTERVALS: tuple[str, ...] = get_args(Interval)
Grouping = Literal["endpoint", "key"]
GROUPINGS: tuple[str, ...] = get_args(Grouping)

_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "H": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_MATH = re.compile(r"now((?:[+-]\d+[smhHdw])*)(?:/([smhHdw]))?")
_STEP = re.compile(r"([+-])(\d+)([smhHdw])")


def parse_time(text: str, now: datetime | None = None, *, name: str = "since") -> datetime:
    """``text`` as an aware UTC datetime: an ISO 8601 date or datetime (naive means UTC) or
    ``now`` with Elasticsearch's date math (``+``/``-`` steps in s m h d w, then an optional
    rounding such as ``/d``; months and years are not supported)."""
    match = _MATH.fullmatch(text)
    if match is not None:
        value = now or datetime.now(UTC)
        for sign, amount, unit in _STEP.findall(match.group(1)):
            step = _UNITS[unit] * int(amount)
            value = value + step if sign == "+" else value - step
        if match.group(2):
            value = _round_down(value, _UNITS[match.group(2)])
        return value
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise IllegalArgumentError(
            f"failed to parse [{name}] value [{text}]: use an ISO 8601 date or datetime, or date math "
            "such as [now-1d]"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _round_down(value: datetime, unit: timedelta) -> datetime:
    if unit == _UNITS["w"]:
        day = _round_down(value, _UNITS["d"])
        return day - timedelta(days=day.weekday())
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((value - epoch) // unit) * unit


def parse_interval(text: str | None, default: Interval = "hour") -> Interval:
    if text is None:
        return default
    if text == "hour":
        return "hour"
    if text == "day":
        return "day"
    raise IllegalArgumentError(f"invalid [interval] value [{text}]: use one of [{', '.join(INTERVALS)}]")


def period_start(value: datetime, interval: Interval) -> datetime:
    """The start of the period (UTC) that ``value`` falls in."""
    return _round_down(value.astimezone(UTC), _UNITS["h" if interval == "hour" else "d"])


def hour_range(
    since: datetime | None, until: datetime | None, interval: Interval
) -> tuple[datetime | None, datetime | None]:
    """The hourly rows to read: from the start of ``since``'s period to the end of ``until``'s
    (exclusive), so every period overlapping ``[since, until)`` comes whole."""
    start = period_start(since, interval) if since is not None else None
    end = None
    if until is not None:
        end = period_start(until, interval)
        if end < until:
            end += _UNITS["h" if interval == "hour" else "d"]
    return start, end


def summarize(rows: Iterable[Usage], interval: Interval | None, by: Grouping | None = None) -> list[Usage]:
    """``rows`` summed per period (``interval``; None: over the whole range, ``period`` None)
    and per endpoint and key (``by``: only per endpoint, or only per key), in period, endpoint,
    key order."""
    sums: dict[tuple[datetime | None, str | None, str | None], list[int]] = {}
    for row in rows:
        period = period_start(row.period, interval) if interval and row.period else None
        inference_id = row.inference_id if by != "key" else None
        key_id = row.api_key_id if by != "endpoint" else None
        counts = sums.setdefault((period, inference_id, key_id), [0, 0, 0, 0])
        counts[0] += row.requests
        counts[1] += row.errors
        counts[2] += row.input_tokens
        counts[3] += row.output_tokens
    ordered = sorted(sums.items(), key=lambda item: _order(*item[0]))
    return [Usage(period, ident, key_id, *counts) for (period, ident, key_id), counts in ordered]


def _order(period: datetime | None, ident: str | None, key_id: str | None) -> tuple[datetime, str, str]:
    return (period or _EPOCH, ident or "", key_id or "")


def total(rows: Iterable[Usage]) -> Usage:
    """Every row summed (no period, endpoint or key)."""
    listed = list(rows)
    return Usage(
        None,
        None,
        None,
        sum(row.requests for row in listed),
        sum(row.errors for row in listed),
        sum(row.input_tokens for row in listed),
        sum(row.output_tokens for row in listed),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
