"""The request log line (inference_service.observe.request_log)."""

from __future__ import annotations

import logging

import pytest

from inference_service.inference.record import CacheUse, RequestRecord
from inference_service.inference.route import Attempt, Route
from inference_service.observe.request_log import log_request, request_fields


def test_a_plain_request_logs_only_what_it_has() -> None:
    record = RequestRecord(started=10.0, finished_at=10.25, face="elasticsearch", request_id="r1", status=200)
    assert request_fields(record) == {
        "request_id": "r1",
        "face": "elasticsearch",
        "status": 200,
        "duration_ms": 250.0,
    }


def test_a_full_request_logs_every_outcome() -> None:
    route = Route("router", attempts=[Attempt("a", "5xx", 0.1), Attempt("b", "ok", 0.2)])
    record = RequestRecord(
        started=1.0,
        finished_at=1.5,
        first_byte_at=1.1,
        streaming=True,
        face="openai",
        request_id="r2",
        opaque_id="op",
        api_key_id="key-1",
        status=200,
        input_tokens=3,
        output_tokens=4,
        upstream_attempts=2,
        route=route,
        cache=CacheUse(misses=1),
        idempotency="stored",
    )
    fields = request_fields(record)
    assert fields["ttft_ms"] == 100.0 and fields["duration_ms"] == 500.0
    assert (fields["input_tokens"], fields["output_tokens"], fields["upstream_attempts"]) == (3, 4, 2)
    assert fields["route"] == "a=5xx 100ms, b=ok 200ms"
    assert (fields["cache"], fields["idempotency"], fields["api_key_id"], fields["opaque_id"]) == (
        "miss",
        "stored",
        "key-1",
        "op",
    )


def test_the_line_quotes_values_with_spaces(caplog: pytest.LogCaptureFixture) -> None:
    route = Route("router", attempts=[Attempt("a", "ok", 0.1)])
    record = RequestRecord(
        started=1.0, finished_at=1.5, face="elasticsearch", request_id="r3", status=200, route=route
    )
    with caplog.at_level(logging.INFO, "inference_service.requests"):
        log_request(record)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == 'request request_id=r3 face=elasticsearch status=200 duration_ms=500.0 route="a=ok 100ms"'


def test_nothing_is_built_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "inference_service.requests"):
        log_request(RequestRecord(request_id="r4"))
    assert not caplog.records
