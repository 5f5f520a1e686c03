"""The request log: one line per request, once it is over.

Logged on ``inference_service.requests`` at ``info`` (so ``log_level`` applies), formatted as
text (``key=value`` pairs) or, with ``log_format = "json"``, as one JSON object per line whose
fields are also the record's ``request`` attribute for other handlers. What it holds is
counts, times, ids and outcomes: never a secret, a key, a header value other than the two
ids, or any part of a prompt or an answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from inference_service.inference.record import RequestRecord
from inference_service.logs import REQUEST_LOGGER, RequestLine, request_line_queue, text_pairs

log = logging.getLogger(REQUEST_LOGGER)


def request_fields(record: RequestRecord) -> dict[str, Any]:
    """What the line says about ``record``; absent values are left out."""
    fields: dict[str, Any] = {"request_id": record.request_id, "face": record.face}
    target = record.target
    if target is not None:
        fields["task_type"] = str(target.endpoint.task_type)
        fields["endpoint"] = target.endpoint.inference_id
        fields["service"] = target.spec.name
    fields["status"] = record.status
    if record.streaming and record.first_byte_at is not None:
        fields["ttft_ms"] = round((record.first_byte_at - record.started) * 1000, 2)
    fields["duration_ms"] = round((record.finished_at - record.started) * 1000, 2)
    if record.input_tokens or record.output_tokens:
        fields["input_tokens"] = record.input_tokens
        fields["output_tokens"] = record.output_tokens
    if record.api_key_id is not None:
        fields["api_key_id"] = record.api_key_id
    if record.upstream_attempts:
        fields["upstream_attempts"] = record.upstream_attempts
    if record.rate_limit_fallback:
        fields["rate_limit"] = "local"
    if record.route is not None:
        fields["route"] = record.route.describe()
    if record.cache is not None:
        fields["cache"] = record.cache.outcome
    if record.idempotency is not None:
        fields["idempotency"] = record.idempotency
    if record.error_type is not None:
        fields["error_type"] = record.error_type
    if record.opaque_id is not None:
        fields["opaque_id"] = record.opaque_id
    return fields


def log_request(record: RequestRecord) -> None:
    """Log the request's line. With the service's own logging on, its fields go straight to the
    log writer's queue (:mod:`inference_service.logs`); otherwise (an embedding application, a
    test) as a record on :data:`log`, made directly (no caller lookup) and marked ``safe``. Either
    way it is not redacted again: every field is a count, a time, an id the service made or
    checked (:mod:`inference_service.observe.middleware` refuses credential-shaped client ids)
    or an endpoint id."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields = request_fields(record)
    writer = request_line_queue()
    if writer is not None:
        writer.put(RequestLine(time.time(), fields))
        return
    line = log.makeRecord(log.name, logging.INFO, __file__, 0, "request %s", (text_pairs(fields),), None)
    line.request = fields
    line.safe = True
    log.handle(line)
