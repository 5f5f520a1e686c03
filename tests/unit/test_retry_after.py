"""``Retry-After`` as seconds (inference_service.retry_after), shared by the service and the SDK."""

from __future__ import annotations

import email.utils
import time

from inference_service.retry_after import parse_retry_after


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3 and parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-4") == 0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None and parse_retry_after("inf") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (parse_retry_after(later) or 0) <= 30
    assert parse_retry_after(email.utils.formatdate(time.time() - 30, usegmt=True)) == 0
