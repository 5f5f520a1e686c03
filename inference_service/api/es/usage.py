"""``GET /_inference/_usage``: requests, errors and tokens per period, endpoint and API key
(an extension: Elasticsearch leaves token accounting to Kibana).

Query parameters, all optional: ``inference_id`` (one id or a comma-separated list),
``since`` and ``until`` (ISO 8601 dates or datetimes, or date math such as ``now-1d``; every
period overlapping ``[since, until)`` is reported whole), ``interval`` (``hour``, the default,
or ``day``, UTC). The answer reads the database only: a worker's counts appear there within
``usage_flush_interval`` seconds (and at its shutdown), whichever worker serves the read.

Needs ``monitor``. A key restricted to some endpoints sees only their usage, and naming an
endpoint it may not use is refused like reading that endpoint. Keys are shown by id, never by
secret; ``api_key_id`` is null for requests made without a key (auth off).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import allows_endpoint, authorize_endpoint
from inference_service.api.es.conventions import check_request, json_response
from inference_service.api.state import services
from inference_service.auth.roles import READ_USAGE
from inference_service.store.usage import Usage
from inference_service.usage.report import hour_range, parse_interval, parse_time, summarize, total

PARAMS = ("inference_id", "since", "until", "interval")


async def get_usage(request: Request) -> Response:
    check_request(request, PARAMS)
    query = request.query_params
    interval = parse_interval(query.get("interval") or None)
    now = datetime.now(UTC)
    since = parse_time(query["since"], now, name="since") if query.get("since") else None
    until = parse_time(query["until"], now, name="until") if query.get("until") else None
    inference_ids = None
    if query.get("inference_id"):
        inference_ids = [i for i in (part.strip() for part in query["inference_id"].split(",")) if i]
        for inference_id in inference_ids:
            authorize_endpoint(request, READ_USAGE, inference_id)
    start, end = hour_range(since, until, interval)
    rows = await services(request).usage.read(since=start, until=end, inference_ids=inference_ids)
    visible = [row for row in rows if row.inference_id and allows_endpoint(request, row.inference_id)]
    entries = summarize(visible, interval)
    return json_response(
        request,
        {
            "interval": interval,
            "since": _timestamp(start),
            "until": _timestamp(end),
            "usage": [{**_period(entry), **_counts(entry)} for entry in entries],
            "totals": _counts(total(entries)),
        },
    )


def _timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _period(entry: Usage) -> dict[str, Any]:
    return {
        "period": _timestamp(entry.period),
        "inference_id": entry.inference_id,
        "api_key_id": entry.api_key_id or None,
    }


def _counts(entry: Usage) -> dict[str, int]:
    return {
        "requests": entry.requests,
        "errors": entry.errors,
        "input_tokens": entry.input_tokens,
        "output_tokens": entry.output_tokens,
    }
