"""The request's ``timeout`` (inference_service.inference.deadline)."""

from __future__ import annotations

import asyncio

import pytest

from inference_service.errors import ParseError, RequestTimeoutError
from inference_service.inference.deadline import (
    Deadline,
    default_timeout,
    expiring,
    gather,
    time_left,
    within,
)
from inference_service.model.task_type import TaskType
from inference_service.settings import Settings


@pytest.mark.parametrize(
    ("raw", "seconds", "label"),
    [
        ("500ms", 0.5, "500ms"),
        ("30s", 30.0, "30s"),
        ("2m", 120.0, "2m"),
        ("1h", 3600.0, "1h"),
        ("1d", 86400.0, "1d"),
        ("10S", 10.0, "10S"),  # units are case-insensitive; the label echoes what was sent
        (" 5s ", 5.0, " 5s "),
        ("1500micros", 0.0015, "1500micros"),
    ],
)
def test_parse_a_time_value(raw: str, seconds: float, label: str) -> None:
    deadline = Deadline.parse(raw, 30.0)
    assert deadline.seconds == pytest.approx(seconds)
    assert (deadline.label, deadline.given) == (label, True)


@pytest.mark.parametrize("raw", [None, "0", "-1", "0s", "0ms"])
def test_unset_values_mean_the_default(raw: str | None) -> None:
    assert Deadline.parse(raw, 120.0) == Deadline(120.0, "120s", given=False)


def test_the_default_label_is_compact() -> None:
    assert Deadline.parse(None, 0.5).label == "0.5s"
    assert Deadline.parse(None, 30.0).label == "30s"


@pytest.mark.parametrize("raw", ["30", "1.5s", "5x", "s", "", "-5s"])
def test_bad_time_values_are_parse_errors(raw: str) -> None:
    with pytest.raises(ParseError) as caught:
        Deadline.parse(raw, 30.0)
    assert caught.value.reason == (
        f"failed to parse setting [timeout] with value [{raw}] as a time value: "
        "unit is missing or unrecognized"
    )
    assert caught.value.status == 400


def test_the_body_timeout_applies_when_the_query_has_none() -> None:
    assert Deadline.parse(None, 30.0).or_body("5s") == Deadline(5.0, "5s", given=True)


def test_the_query_timeout_wins_over_the_body() -> None:
    query = Deadline.parse("10s", 30.0)
    assert query.or_body("5s") is query


def test_no_body_timeout_or_an_unset_one_keeps_the_default() -> None:
    default = Deadline.parse(None, 30.0)
    assert default.or_body(None) is default
    assert default.or_body("-1") is default
    assert default.or_body("0") is default


def test_a_bad_body_timeout_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"with value \[soon\]"):
        Deadline.parse(None, 30.0).or_body("soon")


def test_expired_is_a_408_echoing_the_label() -> None:
    error = Deadline.parse("250ms", 30.0).expired()
    assert isinstance(error, RequestTimeoutError)
    assert (error.status, error.reason) == (408, "Request timed out after [250ms]")
    assert Deadline.parse(None, 120.0).expired().reason == "Request timed out after [120s]"


def test_default_timeouts_per_task_type() -> None:
    settings = Settings(chat_completion_timeout=11.0, completion_timeout=22.0, default_timeout=33.0)
    assert default_timeout(settings, TaskType.CHAT_COMPLETION) == 11.0
    assert default_timeout(settings, TaskType.COMPLETION) == 22.0
    assert default_timeout(settings, TaskType.TEXT_EMBEDDING) == 33.0
    assert default_timeout(settings, TaskType.SPARSE_EMBEDDING) == 33.0
    assert default_timeout(settings, TaskType.RERANK) == 33.0


# --- the deadline seen from inside the work (time_left) ----------------------------------------


def test_time_left_is_none_outside_a_deadline_and_counts_down_inside() -> None:
    async def scenario() -> None:
        assert time_left() is None
        with expiring(5.0):
            left = time_left()
            assert left is not None and 4.9 < left <= 5.0
            with expiring(60.0):  # an inner deadline never extends the outer one
                inner = time_left()
                assert inner is not None and inner <= 5.0
            with expiring(1.0):
                inner = time_left()
                assert inner is not None and inner <= 1.0
        assert time_left() is None

    asyncio.run(scenario())


def test_tasks_gathered_inside_within_see_its_deadline() -> None:
    async def seen() -> float | None:
        return time_left()

    async def scenario() -> None:
        lefts = await within(Deadline(3.0, "3s", given=True), gather(seen() for _ in range(3)))
        assert all(left is not None and 2.9 < left <= 3.0 for left in lefts)

    asyncio.run(scenario())
