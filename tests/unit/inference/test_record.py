"""The request's record (inference.record): Cache-Control parsing and the headers it adds."""

from __future__ import annotations

import contextvars

import pytest

from inference_service.inference.record import (
    CacheControl,
    begin_request,
    current_record,
    peek_record,
    raw_response_headers,
    response_headers,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, CacheControl()),
        ("", CacheControl()),
        ("no-cache", CacheControl(read=False)),
        ("No-Store", CacheControl(write=False)),
        ("no-cache, no-store", CacheControl(read=False, write=False)),
        ("max-age=60", CacheControl(max_age=60.0)),
        ('max-age="30"', CacheControl(max_age=30.0)),
        ("max-age=0", CacheControl(read=False, max_age=0.0)),
        ("max-age=soon, no-transform, only-if-cached", CacheControl()),
    ],
)
def test_cache_control(header: str | None, expected: CacheControl) -> None:
    assert CacheControl.parse(header) == expected


def test_a_plain_request_adds_no_header() -> None:
    def plain() -> None:
        assert peek_record() is None
        assert response_headers() == {}
        record = begin_request()
        assert peek_record() is record and current_record() is record
        headers = ((b"content-type", b"text/event-stream"),)
        assert raw_response_headers(headers) is headers

    contextvars.Context().run(plain)


def test_cache_outcome_headers_hit_only_when_every_lookup_hit() -> None:
    def cached() -> None:
        record = begin_request("no-store")
        assert record.cache_control == CacheControl(write=False)
        use = record.cache_use()
        use.hit(12.7)
        use.hit(3.0)
        assert response_headers() == {"X-Cache": "hit", "Age": "12"}
        use.miss()
        assert raw_response_headers(()) == ((b"x-cache", b"miss"),)

    contextvars.Context().run(cached)


def test_each_request_begins_afresh() -> None:
    def two_requests() -> None:
        begin_request().cache_use().miss()
        assert response_headers() == {"X-Cache": "miss"}
        begin_request()
        assert response_headers() == {}

    contextvars.Context().run(two_requests)
