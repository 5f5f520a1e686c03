"""The request log: one line per request, once it is over.

Logged on ``inference_service.requests`` at ``info`` (so ``log_level`` applies), formatted as
text (``key=value`` pairs) or, with ``log_format = "json"``, as one JSON object per line whose
fields are also the record's ``request`` attribute for other handlers. What it holds is
counts, times, ids and outcomes: never a secret, a key, a header value other than the two
ids, or any part of a prompt or an answer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from inference_service.inference.record import RequestRecord

log = logging.getLogger("inference_service.requests")


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
    if not log.isEnabledFor(logging.INFO):
        return
    fields = request_fields(record)
    text = " ".join(f"{key}={_shown(value)}" for key, value in fields.items())
    log.info("request %s", text, extra={"request": fields})


def _shown(value: object) -> str:
    """A value of the text line: quoted (JSON string syntax) when it holds a space or a quote,
    so the line stays ``key=value`` pairs a machine can split."""
    text = str(value)
    if " " in text or '"' in text or "=" in text:
        return json.dumps(text)
    return text
