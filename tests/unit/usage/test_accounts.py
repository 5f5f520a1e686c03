"""Usage accounts (inference_service.usage.accounts) on a fake clock, the summaries and date
math of inference_service.usage.report, and the flusher keeping its counts when a write fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.errors import IllegalArgumentError
from inference_service.inference.record import RequestRecord
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers import openai
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.openai.settings import OpenAiServiceSettings
from inference_service.providers.schema import ApiKeySecrets, NoTaskSettings
from inference_service.store.usage import Usage, UsageStore
from inference_service.usage.accounts import UsageAccounts
from inference_service.usage.flusher import UsageFlusher
from inference_service.usage.report import hour_range, parse_interval, parse_time, summarize, total

T0 = datetime(2026, 12, 2, 10, 15, tzinfo=UTC).timestamp()
H10 = datetime(2026, 12, 2, 10, tzinfo=UTC)
H11 = datetime(2026, 12, 2, 11, tzinfo=UTC)


class NoProvider(Provider):
    def __init__(self) -> None:
        pass


def resolved(inference_id: str) -> ResolvedEndpoint:
    config = EndpointConfig(
        inference_id=inference_id,
        task_type=TaskType.CHAT_COMPLETION,
        service_settings=OpenAiServiceSettings(model_id="m"),
        task_settings=NoTaskSettings(),
        secrets=ApiKeySecrets(api_key="k"),
    )
    stored = Endpoint(
        inference_id=inference_id,
        task_type=TaskType.CHAT_COMPLETION,
        service="openai",
        service_settings={},
        task_settings={},
        chunking_settings=None,
    )
    return ResolvedEndpoint(stored, openai.PROVIDER, config, NoProvider())


CHAT = resolved("chat")
EMBED = resolved("embed")


def request(
    target: ResolvedEndpoint | None,
    key: str | None = None,
    *,
    tokens: tuple[int, int] = (0, 0),
    status: int = 200,
    error: str | None = None,
) -> RequestRecord:
    record = RequestRecord(target=target, api_key_id=key, status=status, error_type=error)
    record.input_tokens, record.output_tokens = tokens
    return record


def ordered(rows: Sequence[Usage]) -> list[Usage]:
    return sorted(rows, key=lambda r: (r.period or H10, r.inference_id or "", r.api_key_id or ""))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_requests_errors_and_tokens_per_hour_endpoint_and_key() -> None:
    clock = Clock(T0)
    accounts = UsageAccounts(clock)
    accounts.add(request(CHAT, "k1", tokens=(9, 12)))
    accounts.add(request(CHAT, "k1", tokens=(3, 4)))
    accounts.add(request(CHAT, "k1", status=502, error="UpstreamError"))
    accounts.add(request(CHAT, "k1", status=200, error="UpstreamTimeoutError"))  # broke off mid-stream
    accounts.add(request(CHAT, None, status=404))
    accounts.add(request(EMBED, "k2", tokens=(5, 0)))
    accounts.add(request(None, "k1", status=200))  # management: not usage
    clock.now += 3600
    accounts.add(request(CHAT, "k1", tokens=(1, 1)))
    clock.now -= 3600  # the clock stepped back: counted in its own hour again
    accounts.add(request(CHAT, "k1", tokens=(1, 0)))
    assert accounts.pending() == 4
    assert ordered(accounts.take()) == [
        Usage(H10, "chat", "", 1, 1, 0, 0),
        Usage(H10, "chat", "k1", 5, 2, 13, 16),
        Usage(H10, "embed", "k2", 1, 0, 5, 0),
        Usage(H11, "chat", "k1", 1, 0, 1, 1),
    ]
    assert accounts.take() == [] and accounts.pending() == 0


def test_restored_rows_add_to_what_was_counted_meanwhile() -> None:
    accounts = UsageAccounts(Clock(T0))
    accounts.add(request(CHAT, "k1", tokens=(2, 3)))
    taken = accounts.take()
    accounts.add(request(CHAT, "k1", tokens=(1, 1)))
    accounts.add(request(EMBED, "k1", tokens=(4, 0)))
    accounts.restore(taken)
    assert ordered(accounts.take()) == [
        Usage(H10, "chat", "k1", 2, 0, 3, 4),
        Usage(H10, "embed", "k1", 1, 0, 4, 0),
    ]


class ScriptedStore(UsageStore):
    """Fails the writes it is told to, records the others."""

    def __init__(self, failures: int = 0, block: asyncio.Event | None = None) -> None:
        self.failures = failures
        self.block = block
        self.written: list[list[Usage]] = []

    async def add(self, rows: Sequence[Usage]) -> None:
        if self.block is not None:
            await self.block.wait()
        if self.failures:
            self.failures -= 1
            raise OSError("database unreachable")
        self.written.append(list(rows))


def test_a_failed_flush_keeps_the_counts_for_the_next(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        accounts = UsageAccounts(Clock(T0))
        store = ScriptedStore(failures=1)
        flusher = UsageFlusher(accounts, store, interval=3600)
        accounts.add(request(CHAT, "k1", tokens=(9, 12)))
        with caplog.at_level(logging.WARNING, "inference_service.usage"):
            assert await flusher.flush() is False
        assert "usage flush failed, 1 rows kept" in caplog.text and "database unreachable" in caplog.text
        accounts.add(request(CHAT, "k1", tokens=(1, 2), status=500, error="InternalError"))
        assert await flusher.flush() is True
        assert store.written == [[Usage(H10, "chat", "k1", 2, 1, 10, 14)]]
        assert await flusher.flush() is True and len(store.written) == 1  # nothing new: no write

    asyncio.run(scenario())


def test_periodic_flushes_and_a_last_one_at_close() -> None:
    async def scenario() -> None:
        accounts = UsageAccounts(Clock(T0))
        store = ScriptedStore()
        flusher = UsageFlusher(accounts, store, interval=0.05)
        flusher.start()
        accounts.add(request(CHAT))
        for _ in range(100):
            if store.written:
                break
            await asyncio.sleep(0.01)
        assert store.written == [[Usage(H10, "chat", "", 1, 0, 0, 0)]]
        accounts.add(request(EMBED, "k"))
        await flusher.close()
        assert store.written[-1] == [Usage(H10, "embed", "k", 1, 0, 0, 0)]
        assert accounts.pending() == 0

    asyncio.run(scenario())


def test_counts_that_cannot_be_written_at_close_are_logged_as_lost(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        accounts = UsageAccounts(Clock(T0))
        flusher = UsageFlusher(accounts, ScriptedStore(failures=5), interval=3600)
        flusher.start()
        accounts.add(request(CHAT))
        with caplog.at_level(logging.WARNING, "inference_service.usage"):
            await flusher.close()
        assert "1 rows could not be written at shutdown" in caplog.text

    asyncio.run(scenario())


def test_a_write_cancelled_midway_gives_the_counts_back() -> None:
    async def scenario() -> None:
        accounts = UsageAccounts(Clock(T0))
        flusher = UsageFlusher(accounts, ScriptedStore(block=asyncio.Event()), interval=3600)
        accounts.add(request(CHAT, tokens=(1, 1)))
        task = asyncio.create_task(flusher.flush())
        await asyncio.sleep(0.01)
        assert accounts.pending() == 0
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert accounts.take() == [Usage(H10, "chat", "", 1, 0, 1, 1)]

    asyncio.run(scenario())


NOW = datetime(2026, 12, 2, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now-1d", datetime(2026, 12, 1, 10, 15, 30, tzinfo=UTC)),
        ("now-1h+30m", datetime(2026, 12, 2, 9, 45, 30, tzinfo=UTC)),
        ("now/d", datetime(2026, 12, 2, tzinfo=UTC)),
        ("now-1d/h", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("now/w", datetime(2026, 11, 30, tzinfo=UTC)),  # a Monday
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T08:30:00", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01T08:30:00Z", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("2026-12-01T09:30:00+01:00", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "now-1x", "now-1M", "12/01/2026", ""])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(IllegalArgumentError, match=r"failed to parse \[until\] value"):
        parse_time(text, NOW, name="until")


def test_intervals_and_ranges() -> None:
    assert parse_interval(None) == "hour" and parse_interval("day") == "day"
    with pytest.raises(IllegalArgumentError, match=r"invalid \[interval\] value \[week\]"):
        parse_interval("week")
    since, until = parse_time("now-1d", NOW), NOW
    assert hour_range(since, until, "hour") == (datetime(2026, 12, 1, 10, tzinfo=UTC), H11)
    assert hour_range(since, until, "day") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2026, 12, 3, tzinfo=UTC),
    )
    assert hour_range(None, H10, "hour") == (None, H10)


def test_summaries_per_day_endpoint_and_key() -> None:
    yesterday = datetime(2026, 12, 1, 23, tzinfo=UTC)
    rows = [
        Usage(yesterday, "chat", "k1", 1, 0, 10, 20),
        Usage(H10, "chat", "k1", 2, 1, 30, 40),
        Usage(H10, "chat", "k2", 3, 0, 5, 5),
        Usage(H11, "embed", "k1", 4, 0, 8, 0),
    ]
    day1, day2 = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    assert summarize(rows, "day") == [
        Usage(day1, "chat", "k1", 1, 0, 10, 20),
        Usage(day2, "chat", "k1", 2, 1, 30, 40),
        Usage(day2, "chat", "k2", 3, 0, 5, 5),
        Usage(day2, "embed", "k1", 4, 0, 8, 0),
    ]
    assert summarize(rows, None, "endpoint") == [
        Usage(None, "chat", None, 6, 1, 45, 65),
        Usage(None, "embed", None, 4, 0, 8, 0),
    ]
    assert summarize(rows, "day", "key") == [
        Usage(day1, None, "k1", 1, 0, 10, 20),
        Usage(day2, None, "k1", 6, 1, 38, 40),
        Usage(day2, None, "k2", 3, 0, 5, 5),
    ]
    assert total(rows) == Usage(None, None, None, 10, 1, 53, 65)
