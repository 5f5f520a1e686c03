"""``parse_expiration``: an API key's ``expiration`` time value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inference_service.auth.manager import parse_expiration
from inference_service.errors import InvalidRequestError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_time_value_from_now() -> None:
    assert parse_expiration("30d", NOW) == NOW + timedelta(days=30)
    assert parse_expiration("-1", NOW) is None
    assert parse_expiration(None, NOW) is None


@pytest.mark.parametrize("value", ["99999999999999d", "3000000d", "9223372036854775807h"])
def test_one_past_the_calendar_is_a_400_not_a_500(value: str) -> None:
    """Was an OverflowError (a 500) from ``timedelta`` or the datetime addition."""
    with pytest.raises(InvalidRequestError, match=r"\[expiration\] .* too far in the future"):
        parse_expiration(value, NOW)
