"""The pure parts of the HTTP glue (inference_service.providers.http): batch translation and
Elasticsearch's status and wording for provider failures."""

from __future__ import annotations

import pytest

from inference_service.errors import BadRequestError, UpstreamConnectionError, UpstreamError
from inference_service.providers.http import (
    RETRYABLE_STATUSES,
    incomplete_stream,
    transient,
    translate_batch,
    upstream_reason,
    upstream_status,
)
from inference_service.sse_decoder import ServerSentEvent

URL = "https://provider.example/v1/chat"


def parse(event: ServerSentEvent) -> int | None:
    """A translator: numbers become items, ``skip`` is skipped, anything else fails."""
    if event.data == "skip":
        return None
    if event.data.isdigit():
        return int(event.data)
    raise UpstreamError(f"bad [{event.data}]", status=418)


def batch(*data: str) -> list[ServerSentEvent]:
    return [ServerSentEvent(data=d) for d in data]


def test_translate_batch_keeps_every_item_and_skips_none() -> None:
    assert translate_batch(batch("1", "skip", "2", "3"), parse) == ([1, 2, 3], None)


def test_translate_batch_keeps_items_before_a_failing_event_and_stops_there() -> None:
    seen: list[str] = []

    def recording(event: ServerSentEvent) -> int | None:
        seen.append(event.data)
        return parse(event)

    items, error = translate_batch(batch("1", "skip", "2", "boom", "3"), recording)
    assert items == [1, 2]
    assert isinstance(error, UpstreamError)
    assert (error.reason, error.status) == ("bad [boom]", 418)
    assert seen == ["1", "skip", "2", "boom"]  # nothing after the failure is translated


def test_translate_batch_failing_first_event() -> None:
    items, error = translate_batch(batch("x"), parse)
    assert items == []
    assert error is not None and error.reason == "bad [x]"


def test_translate_batch_empty() -> None:
    assert translate_batch([], parse) == ([], None)


def test_translate_batch_does_not_catch_other_exceptions() -> None:
    def broken(event: ServerSentEvent) -> int | None:
        raise KeyError(event.data)

    with pytest.raises(KeyError):
        translate_batch(batch("1"), broken)


def test_translate_batch_returns_any_service_error() -> None:
    def refusing(event: ServerSentEvent) -> int | None:
        raise BadRequestError("no")

    items, error = translate_batch(batch("1"), refusing)
    assert items == [] and isinstance(error, BadRequestError)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, 400),
        (401, 401),
        (403, 403),
        (404, 404),
        (413, 413),
        (429, 429),
        (499, 499),
        (500, 502),
        (502, 502),
        (503, 502),
        (529, 502),
        (301, 502),
        (204, 502),
    ],
)
def test_upstream_status(status: int, expected: int) -> None:
    assert upstream_status(status) == expected


@pytest.mark.parametrize(
    ("status", "prefix"),
    [
        (404, f"Resource not found at [{URL}]"),
        (401, "Received an authentication error status code"),
        (403, "Received a permission denied error status code"),
        (429, "Received a rate limit status code"),
        (413, "Received a content too large status code"),
        (500, "Received a server error status code"),
        (503, "Received a server error status code"),
        (302, "Unhandled redirection"),
        (400, "Received a bad request status code"),
        (422, "Received an unsuccessful status code"),
        (409, "Received an unsuccessful status code"),
    ],
)
def test_upstream_reason(status: int, prefix: str) -> None:
    assert upstream_reason(status, "ep-1", URL, "it broke") == (
        f"{prefix} for request from inference entity id [ep-1] status [{status}]. Error message: [it broke]"
    )


def test_incomplete_stream() -> None:
    error = incomplete_stream("ep-1", "[DONE]")
    assert type(error) is UpstreamError
    assert error.reason == (
        "The provider closed the stream for inference entity id [ep-1] before it was complete (no [DONE])"
    )
    assert error.status == 502


def test_transient_marks_an_upstream_error_retryable() -> None:
    error = UpstreamConnectionError("reset")
    assert not error.retryable
    assert transient(error) is error and error.retryable
    assert {429, 502, 503, 504} == RETRYABLE_STATUSES  # a 500 is the provider's bug, a 4xx will not change
