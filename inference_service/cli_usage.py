"""``inference-service usage``: the usage table (requests, errors, tokens per endpoint and API
key) printed as a table, offline against the database like ``api-keys list``.

Without ``--interval`` each row sums the whole range; with it, one row per hour or day (UTC).
``--by endpoint`` sums over keys, ``--by key`` over endpoints. ``--since``/``--until`` take
what the API takes (ISO 8601 dates or datetimes, date math such as ``now-7d``); a period
overlapping the range is counted whole. The table shows what the workers have flushed: counts
arrive within ``usage_flush_interval`` seconds, and at each worker's shutdown.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from inference_service.settings import Settings
from inference_service.store.engine import create_engine, create_sessionmaker
from inference_service.store.migrate import ensure_schema_current
from inference_service.store.usage import Usage, UsageStore
from inference_service.usage.report import (
    GROUPINGS,
    INTERVALS,
    Grouping,
    Interval,
    hour_range,
    parse_interval,
    parse_time,
    summarize,
    total,
)

NO_KEY = "-"
"""Shown for requests made without an API key (auth off)."""


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``usage`` on the top-level subparsers."""
    usage = sub.add_parser(
        "usage", parents=[common], help="requests, errors and tokens per endpoint and API key, as a table"
    )
    usage.add_argument("--since", default=None, help="an ISO 8601 date or datetime, or date math like now-1d")
    usage.add_argument("--until", default=None, help="the same, exclusive (default: no bound)")
    usage.add_argument("--inference-id", default=None, help="comma-separated inference ids (default: all)")
    usage.add_argument(
        "--by", default=None, choices=GROUPINGS, help="sum per endpoint only or per key only (default: both)"
    )
    usage.add_argument(
        "--interval",
        default=None,
        choices=INTERVALS,
        help="one row per hour or day (default: the whole range)",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    since = parse_time(args.since, now, name="since") if args.since else None
    until = parse_time(args.until, now, name="until") if args.until else None
    interval: Interval | None = parse_interval(args.interval) if args.interval else None
    ids = [i.strip() for i in args.inference_id.split(",") if i.strip()] if args.inference_id else None
    start, end = hour_range(since, until, interval or "hour")
    engine = create_engine(settings.resolved_database_url, pool_size=1)
    try:
        await ensure_schema_current(engine, settings)
        rows = await UsageStore(create_sessionmaker(engine)).read(since=start, until=end, inference_ids=ids)
    finally:
        await engine.dispose()
    by: Grouping | None = args.by
    print(render(summarize(rows, interval, by), interval, by))
    return 0


def render(entries: Sequence[Usage], interval: Interval | None, by: Grouping | None) -> str:
    """Aligned columns: the period (with an interval), the endpoint and/or key, the four
    counts right-aligned, and a TOTAL line."""
    labels: list[str] = []
    if interval is not None:
        labels.append("PERIOD (UTC)")
    if by != "key":
        labels.append("INFERENCE ID")
    if by != "endpoint":
        labels.append("API KEY")
    counts = ["REQUESTS", "ERRORS", "INPUT TOKENS", "OUTPUT TOKENS"]
    lines = [[*labels, *counts]]
    for entry in entries:
        cells: list[str] = []
        if interval is not None:
            cells.append(_period(entry.period, interval))
        if by != "key":
            cells.append(entry.inference_id or "")
        if by != "endpoint":
            cells.append(entry.api_key_id or NO_KEY)
        lines.append([*cells, *_counts(entry)])
    lines.append(["TOTAL", *[""] * (len(labels) - 1), *_counts(total(entries))])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = []
    for line in lines:
        left = [cell.ljust(width) for cell, width in zip(line[: len(labels)], widths, strict=False)]
        right = [
            cell.rjust(width) for cell, width in zip(line[len(labels) :], widths[len(labels) :], strict=True)
        ]
        text.append("  ".join([*left, *right]).rstrip())
    return "\n".join(text)


def _period(value: datetime | None, interval: Interval) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:00" if interval == "hour" else "%Y-%m-%d")


def _counts(entry: Usage) -> list[str]:
    return [str(entry.requests), str(entry.errors), str(entry.input_tokens), str(entry.output_tokens)]
