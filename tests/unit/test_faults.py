"""What counts as "the database is unreachable", and the revision poll's rate-limited log."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from inference_service.store.faults import RepeatedFailureFilter, is_database_fault


def test_a_refused_connect_through_sqlalchemy_is_a_database_fault() -> None:
    async def connect() -> BaseException:
        engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except OSError as exc:
            return exc
        finally:
            await engine.dispose()
        raise AssertionError("port 9 answered")

    assert is_database_fault(asyncio.run(connect()))


def test_an_oserror_from_elsewhere_is_not() -> None:
    try:
        open("/nonexistent/file")  # noqa: SIM115
    except OSError as exc:
        assert not is_database_fault(exc)


def test_sqlalchemy_errors_count_only_when_about_the_connection() -> None:
    assert is_database_fault(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert not is_database_fault(IntegrityError("INSERT", {}, Exception("duplicate key")))


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("inference_service.refresh", logging.ERROR, __file__, 1, message, None, None)


def test_repeated_failures_pass_once_per_window_with_the_count_held_back() -> None:
    now = [0.0]
    quiet = RepeatedFailureFilter(window=60, clock=lambda: now[0])
    assert quiet.filter(record("reading failed"))
    passed = []
    for _ in range(10):
        now[0] += 1
        passed.append(quiet.filter(record("reading failed")))
    assert passed == [False] * 10
    assert quiet.filter(record("another failure"))  # each message has its own window
    now[0] = 61
    later = record("reading failed")
    assert quiet.filter(later)
    assert later.getMessage() == "reading failed (and 10 times more in the last 60s)"
    now[0] = 200
    fresh = record("reading failed")
    assert quiet.filter(fresh) and fresh.getMessage() == "reading failed"
