"""Retries before the first byte (inference_service.inference.retries): scripted failures, a
sleep that records instead of waiting, a fixed jitter source; deadlines from ``expiring``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import pytest

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.errors import (
    InferenceServiceError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from inference_service.inference.deadline import expiring
from inference_service.inference.pipeline import UnaryRequest, UnaryResult
from inference_service.inference.retries import BASE_DELAY, MAX_DELAY, Attempts, UpstreamRetries, max_retries
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest, UserMessage
from inference_service.model.endpoint import Endpoint
from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers import openai, router
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.openai.settings import OpenAiServiceSettings
from inference_service.providers.router.settings import RouterSettings, RouterTarget
from inference_service.providers.schema import ApiKeySecrets, NoSecrets, NoTaskSettings, SettingsStruct

Step = InferenceServiceError | list[str]
"""One scripted attempt: fail with the error before any batch, or stream these batches."""


class NoProvider(Provider):
    def __init__(self) -> None:
        pass


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def transient(status: int, retry_after: str | None = None) -> UpstreamError:
    error = UpstreamError(f"status [{status}]", status=502 if status >= 500 else status)
    error.provider_status = status
    error.retryable = status in (429, 502, 503, 504)
    error.retry_after = retry_after
    return error


def connection_reset() -> UpstreamConnectionError:
    error = UpstreamConnectionError("The connection to the provider failed mid-response: reset")
    error.retryable = True
    return error


def endpoint(retries: int | None = None, *, service: str = "openai") -> ResolvedEndpoint:
    settings: SettingsStruct
    secrets: SettingsStruct
    if service == "router":
        settings, spec, secrets = (
            RouterSettings(strategy="priority", targets=[RouterTarget(inference_id="a")]),
            router.PROVIDER,
            NoSecrets(),
        )
    else:
        settings = OpenAiServiceSettings(model_id="m", upstream_max_retries=retries)
        spec, secrets = openai.PROVIDER, ApiKeySecrets(api_key="k")
    config = EndpointConfig(
        inference_id="ep",
        task_type=TaskType.CHAT_COMPLETION,
        service_settings=settings,
        task_settings=NoTaskSettings(),
        secrets=secrets,
    )
    stored = Endpoint(
        inference_id="ep",
        task_type=TaskType.CHAT_COMPLETION,
        service=service,
        service_settings={},
        task_settings={},
        chunking_settings=None,
    )
    return ResolvedEndpoint(stored, spec, config, NoProvider())


class Script:
    """The inner handlers: each call takes the next step; ``after_first`` fails a stream after
    its first batch."""

    def __init__(self, *steps: Step, after_first: InferenceServiceError | None = None) -> None:
        self.steps = list(steps)
        self.calls = 0
        self.closed = 0
        self.after_first = after_first
        self.last: ChunkStream | None = None

    def stream(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
    ) -> ChunkStream:
        self.calls += 1
        step = self.steps.pop(0)
        self.last = self._chunks(step)
        return self.last

    async def _chunks(self, step: Step) -> ChunkStream:
        try:
            if isinstance(step, InferenceServiceError):
                raise step
            for i, text in enumerate(step):
                yield [ChatCompletionChunk(id=text, choices=[], model="m", object="chat.completion.chunk")]
                if i == 0 and self.after_first is not None:
                    raise self.after_first
        finally:
            self.closed += 1

    async def unary(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: UnaryRequest
    ) -> UnaryResult:
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, InferenceServiceError):
            raise step
        return RerankResult(ranked=[RankedDocument(index=0, relevance_score=1.0)])


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


REQUEST = ChatCompletionRequest(messages=[UserMessage(content="hi")])


async def collect(retries: UpstreamRetries, script: Script, target: ResolvedEndpoint) -> list[str]:
    handler = retries.stream(script.stream)
    return [batch[0].id async for batch in handler(target, target.config, REQUEST)]


def test_a_transient_failure_is_retried_until_the_stream_answers() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        retries = UpstreamRetries(2, sleep=sleeps, uniform=lambda: 0.0)
        script = Script(transient(503), connection_reset(), ["a", "b"])
        assert await collect(retries, script, endpoint()) == ["a", "b"]
        assert script.calls == 3 and script.closed == 3
        assert sleeps.waits == [BASE_DELAY, 2 * BASE_DELAY]

    run(scenario())


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_each_transient_status_is_retried(status: int) -> None:
    async def scenario() -> None:
        retries = UpstreamRetries(1, sleep=Sleeps(), uniform=lambda: 0.0)
        script = Script(transient(status), ["a"])
        assert await collect(retries, script, endpoint()) == ["a"]
        assert script.calls == 2

    run(scenario())


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_a_callers_error_or_a_500_is_not_retried(status: int) -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        retries = UpstreamRetries(2, sleep=sleeps)
        error = transient(status)
        script = Script(error, ["a"])
        with pytest.raises(UpstreamError) as raised:
            await collect(retries, script, endpoint())
        assert raised.value is error
        assert script.calls == 1 and sleeps.waits == []

    run(scenario())


def test_unmarked_failures_are_not_retried() -> None:
    """A refused address, a read timeout, a malformed answer: not marked retryable."""

    async def scenario() -> None:
        for error in (
            UpstreamConnectionError("Refused to connect to the provider"),
            UpstreamTimeoutError("Timed out reading from the provider"),
            UpstreamError("malformed"),
        ):
            script = Script(error, ["a"])
            with pytest.raises(UpstreamError):
                await collect(UpstreamRetries(2, sleep=Sleeps()), script, endpoint())
            assert script.calls == 1

    run(scenario())


def test_no_retry_once_the_first_batch_is_out() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        failure = transient(503)
        script = Script(["a", "b"], ["x"], after_first=failure)
        handler = UpstreamRetries(2, sleep=sleeps).stream(script.stream)
        seen: list[str] = []
        with pytest.raises(UpstreamError) as raised:
            async for batch in handler(endpoint(), endpoint().config, REQUEST):
                seen.append(batch[0].id)
        assert raised.value is failure
        assert seen == ["a"] and script.calls == 1 and sleeps.waits == []

    run(scenario())


def test_when_retries_run_out_the_last_error_goes_back(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        last = transient(429, retry_after="7")
        script = Script(transient(503), transient(502), last, ["never"])
        with pytest.raises(UpstreamError) as raised:
            await collect(UpstreamRetries(2, sleep=sleeps, uniform=lambda: 0.0), script, endpoint(None))
        assert raised.value is last and raised.value.retry_after == "7"  # reaches the client
        assert script.calls == 3 and len(sleeps.waits) == 2

    with caplog.at_level(logging.INFO, logger="inference_service.retries"):
        run(scenario())
    (line,) = [r.getMessage() for r in caplog.records if r.name == "inference_service.retries"]
    assert line == (
        "upstream call of [ep] made 3 attempts: 503 (waited 0.25s), 502 (waited 0.50s), 429; gave up"
    )


def test_jitter_takes_up_to_half_off_and_the_backoff_is_capped() -> None:
    lowest, highest = Attempts(20, lambda: 0.999999), Attempts(20, lambda: 0.0)
    for made in range(12):
        full = min(MAX_DELAY, BASE_DELAY * 2**made)
        assert highest.backoff(made) == full
        assert lowest.backoff(made) == pytest.approx(full / 2, rel=1e-5)
    assert highest.backoff(11) == MAX_DELAY


def test_retry_after_is_honoured_instead_of_the_backoff() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        script = Script(transient(429, retry_after="1.5"), transient(503, retry_after="0"), ["a"])
        assert await collect(UpstreamRetries(2, sleep=sleeps), script, endpoint()) == ["a"]
        assert sleeps.waits == [1.5, 0.0]

    run(scenario())


def test_a_retry_after_past_the_deadline_is_not_waited_for() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        error = transient(429, retry_after="30")
        script = Script(error, ["a"])
        with expiring(10.0), pytest.raises(UpstreamError) as raised:
            await collect(UpstreamRetries(2, sleep=sleeps), script, endpoint())
        assert raised.value is error and sleeps.waits == [] and script.calls == 1

    run(scenario())


def test_a_backoff_past_the_deadline_is_not_started() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        script = Script(transient(503), transient(503), ["a"])
        # the first backoff (0.25 s) fits in 0.4 s, the second (0.5 s) no longer does
        with expiring(0.4), pytest.raises(UpstreamError):
            await collect(UpstreamRetries(5, sleep=sleeps, uniform=lambda: 0.0), script, endpoint())
        assert sleeps.waits == [BASE_DELAY] and script.calls == 2

    run(scenario())


def test_the_endpoint_setting_overrides_the_service_default() -> None:
    assert max_retries(endpoint(None).config, 2) == 2
    assert max_retries(endpoint(5).config, 2) == 5
    assert max_retries(endpoint(0).config, 2) == 0
    assert max_retries(endpoint(service="router").config, 2) == 2  # no such setting there

    async def scenario() -> None:
        script = Script(transient(503), ["a"])
        with pytest.raises(UpstreamError):
            await collect(UpstreamRetries(2, sleep=Sleeps()), script, endpoint(0))
        assert script.calls == 1
        script = Script(transient(503), transient(503), ["a"])
        assert await collect(UpstreamRetries(0, sleep=Sleeps()), script, endpoint(3)) == ["a"]

    run(scenario())


def test_a_router_endpoint_is_not_retried_itself() -> None:
    async def scenario() -> None:
        script = Script(transient(503), ["a"])
        with pytest.raises(UpstreamError):
            await collect(UpstreamRetries(2, sleep=Sleeps()), script, endpoint(service="router"))
        assert script.calls == 1

    run(scenario())


def test_without_retries_the_providers_stream_is_handed_out_as_is() -> None:
    script = Script(["a"])
    target = endpoint(0)
    stream = UpstreamRetries(2).stream(script.stream)(target, target.config, REQUEST)
    assert stream is script.last  # nothing in between: no cost per chunk
    run(stream.aclose())


def test_unary_calls_retry_until_they_answer() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        script = Script(transient(504), connection_reset(), [])
        handler = UpstreamRetries(2, sleep=sleeps, uniform=lambda: 0.0).unary(script.unary)
        target = endpoint()
        result = await handler(target, target.config, RerankRequest(input=["d"], query="q"))
        assert isinstance(result, RerankResult) and script.calls == 3
        assert sleeps.waits == [BASE_DELAY, 2 * BASE_DELAY]
        script = Script(transient(404), [])
        handler = UpstreamRetries(2, sleep=sleeps).unary(script.unary)
        with pytest.raises(UpstreamError):
            await handler(target, target.config, RerankRequest(input=["d"], query="q"))
        assert script.calls == 1

    run(scenario())


def test_a_cancelled_attempt_is_not_retried_and_its_stream_is_closed() -> None:
    async def scenario() -> None:
        started = asyncio.Event()
        closed: list[str] = []

        async def hanging() -> ChunkStream:
            try:
                started.set()
                await asyncio.Event().wait()
                yield []
            finally:
                closed.append("closed")

        calls: list[str] = []

        def inner(
            target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
        ) -> ChunkStream:
            calls.append("call")
            return hanging()

        target = endpoint()
        stream = UpstreamRetries(2, sleep=Sleeps()).stream(inner)(target, target.config, REQUEST)
        task = asyncio.create_task(anext(stream))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await stream.aclose()
        assert calls == ["call"] and closed == ["closed"]

    run(scenario())
