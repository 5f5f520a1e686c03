"""The router's failover loop (providers.router.provider) over in-process targets: scripted
handlers in place of the wrapper chain, a clock moved by hand and seeded randomness."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any

import aiohttp
import msgspec
import pytest

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.errors import (
    EndpointNotFoundError,
    InferenceServiceError,
    InvalidRequestError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from inference_service.inference.pipeline import Pipeline, UnaryRequest, UnaryResult
from inference_service.inference.route import current_route
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest, UserMessage
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.endpoint import Endpoint
from inference_service.model.rerank import RankedDocument, RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers import openai
from inference_service.providers import router as router_package
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider, ProviderContext
from inference_service.providers.router.provider import RouterProvider, failure_kind
from inference_service.providers.router.settings import RouterSettings
from inference_service.providers.schema import NoSecrets, NoTaskSettings

CONTEXT = ProviderContext(http=aiohttp.ClientSession.__new__(aiohttp.ClientSession))
"""Neither the router nor these targets touch the HTTP client: an unopened one."""
REQUEST = ChatCompletionRequest(messages=[UserMessage(content="hi")])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def chunk(text: str) -> list[ChatCompletionChunk]:
    return [
        msgspec.convert(
            {
                "id": "c",
                "model": "m",
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": text}}],
            },
            ChatCompletionChunk,
        )
    ]


class Targets:
    """Scripted targets: each call takes the next outcome of its target (``"ok"``, or an
    exception raised before the first chunk); calls are recorded."""

    def __init__(self, task_type: TaskType = TaskType.CHAT_COMPLETION, **scripts: list[Any]) -> None:
        self.scripts = scripts
        self.calls: list[str] = []
        self.endpoints = {name: _resolved(name, task_type) for name in scripts}

    async def resolve(self, inference_id: str) -> ResolvedEndpoint:
        if inference_id not in self.endpoints:
            raise EndpointNotFoundError(inference_id)
        return self.endpoints[inference_id]

    def _next(self, target: ResolvedEndpoint) -> Any:
        name = target.endpoint.inference_id
        self.calls.append(name)
        script = self.scripts[name]
        return script.pop(0) if len(script) > 1 else script[0]

    def chat(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
    ) -> ChunkStream:
        outcome = self._next(target)

        async def chunks() -> ChunkStream:
            if isinstance(outcome, BaseException):
                raise outcome
            yield chunk(target.endpoint.inference_id)
            if outcome == "break":
                raise UpstreamConnectionError("gone mid-stream")

        return chunks()

    async def batched(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: EmbeddingRequest
    ) -> TextEmbeddingResult:
        outcome = self._next(target)
        if isinstance(outcome, BaseException):
            raise outcome
        return TextEmbeddingResult(embeddings=[[1.0] for _ in request.input], element_type="float")

    async def unary(
        self, target: ResolvedEndpoint, config: EndpointConfig, request: UnaryRequest
    ) -> UnaryResult:
        outcome = self._next(target)
        if isinstance(outcome, BaseException):
            raise outcome
        return RerankResult(ranked=[RankedDocument(index=0, relevance_score=1.0)])


def _resolved(name: str, task_type: TaskType) -> ResolvedEndpoint:
    endpoint = Endpoint(
        inference_id=name,
        task_type=task_type,
        service="openai",
        service_settings={},
        task_settings={},
        chunking_settings=None,
    )
    config = EndpointConfig(
        inference_id=name,
        task_type=task_type,
        service_settings=NoTaskSettings(),
        task_settings=NoTaskSettings(),
        secrets=NoSecrets(),
    )
    return ResolvedEndpoint(endpoint, openai.PROVIDER, config, provider=Provider(CONTEXT))


def router_config(task_type: TaskType = TaskType.CHAT_COMPLETION, **settings: Any) -> EndpointConfig:
    settings.setdefault("strategy", "priority")
    targets = settings.pop("targets")
    settings["targets"] = [{"inference_id": t} for t in targets]
    return EndpointConfig(
        inference_id="r",
        task_type=task_type,
        service_settings=msgspec.convert(settings, RouterSettings),
        task_settings=NoTaskSettings(),
        secrets=NoSecrets(),
    )


def make_router(targets: Targets, clock: Clock | None = None) -> RouterProvider:
    router = RouterProvider(CONTEXT)
    router.bind(
        targets.resolve, Pipeline(targets.chat, targets.unary), targets.batched, clock=clock or Clock()
    )
    return router


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return contextvars.Context().run(asyncio.run, coro)


async def collect(stream: ChunkStream) -> list[str]:
    texts: list[str] = []
    async for batch in stream:
        texts.extend(c.choices[0].delta.content or "" for c in batch)
    return texts


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (UpstreamConnectionError("x"), "connection"),
        (UpstreamTimeoutError("x"), "timeout"),
        (UpstreamError("x", status=429), "429"),
        (UpstreamError("x", status=503), "5xx"),
        (UpstreamError("x"), "5xx"),
        (UpstreamError("x", status=400), None),
        (InvalidRequestError("x"), None),
        (InferenceServiceError("x"), None),
    ],
)
def test_failure_kinds(error: InferenceServiceError, kind: str | None) -> None:
    assert failure_kind(error) == kind


def test_the_spec_is_a_service_for_every_task_type() -> None:
    assert router_package.PROVIDER.task_types == frozenset(TaskType)


def test_a_stream_fails_over_and_records_its_attempts() -> None:
    targets = Targets(a=[UpstreamError("down", status=502)], b=["ok"])

    async def scenario() -> None:
        router = make_router(targets)
        assert await collect(router.stream_chat(router_config(targets=["a", "b"]), REQUEST)) == ["b"]
        route = current_route()
        assert route is not None and route.answered_by == ["b"]
        assert [(a.target, a.outcome) for a in route.attempts] == [("a", "5xx"), ("b", "ok")]
        assert router.stats["a"].in_flight == router.stats["b"].in_flight == 0

    run(scenario())


def test_a_failure_after_the_first_chunk_is_the_streams_error() -> None:
    targets = Targets(a=["break"], b=["ok"])

    async def scenario() -> None:
        router = make_router(targets)
        stream = router.stream_chat(router_config(targets=["a", "b"]), REQUEST)
        assert (await anext(stream))[0].choices[0].delta.content == "a"
        with pytest.raises(UpstreamConnectionError):
            await anext(stream)
        assert targets.calls == ["a"]

    run(scenario())


def test_the_breaker_opens_then_half_opens_for_one_probe() -> None:
    clock = Clock()
    targets = Targets(a=[UpstreamError("down", status=503)], b=["ok"])
    config = router_config(targets=["a", "b"], circuit_breaker={"failures": 2, "cooldown": "10s"})

    async def scenario() -> None:
        router = make_router(targets, clock)
        for _ in range(4):
            assert await router.rerank(config, RerankRequest(query="q", input=["x"]))
        assert targets.calls == ["a", "b", "a", "b", "b", "b"]  # open after two failures
        clock.now += 10
        targets.calls.clear()
        targets.scripts["a"] = ["ok"]
        await router.rerank(config, RerankRequest(query="q", input=["x"]))
        assert targets.calls == ["a"]  # the probe succeeded: closed again
        await router.rerank(config, RerankRequest(query="q", input=["x"]))
        assert targets.calls == ["a", "a"]

    run(scenario())


def test_a_callers_error_is_not_failed_over_and_keeps_the_breaker_closed() -> None:
    targets = Targets(a=[UpstreamError("bad", status=400)], b=["ok"])
    config = router_config(targets=["a", "b"], circuit_breaker={"failures": 1})

    async def scenario() -> None:
        router = make_router(targets)
        for _ in range(2):
            with pytest.raises(UpstreamError, match="bad"):
                await router.rerank(config, RerankRequest(query="q", input=["x"]))
        assert targets.calls == ["a", "a"]

    run(scenario())


def test_missing_and_mistyped_targets_are_skipped() -> None:
    targets = Targets(a=["ok"])
    targets.endpoints["e"] = _resolved("e", TaskType.TEXT_EMBEDDING)

    async def scenario() -> None:
        router = make_router(targets)
        assert await collect(router.stream_chat(router_config(targets=["gone", "e", "a"]), REQUEST)) == ["a"]
        route = current_route()
        assert route is not None
        assert [(a.target, a.outcome) for a in route.attempts] == [
            ("gone", "unavailable"),
            ("e", "unavailable"),
            ("a", "ok"),
        ]

    run(scenario())


def test_nothing_to_try_is_a_503() -> None:
    targets = Targets(a=["ok"])

    async def scenario() -> None:
        router = make_router(targets)
        with pytest.raises(UpstreamError) as refused:
            await collect(router.stream_chat(router_config(targets=["gone"]), REQUEST))
        assert refused.value.status == 503 and "gone=unavailable" in refused.value.reason

    run(scenario())


def test_the_attempt_timeout_is_a_timeout_failure() -> None:
    class Hanging(Targets):
        def chat(
            self, target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
        ) -> ChunkStream:
            if target.endpoint.inference_id == "a":
                self.calls.append("a")

                async def never() -> ChunkStream:
                    await asyncio.sleep(3600)
                    yield chunk("late")

                return never()
            return super().chat(target, config, request)

    targets = Hanging(a=["ok"], b=["ok"])

    async def scenario() -> None:
        router = make_router(targets)
        config = router_config(targets=["a", "b"], attempt_timeout="20ms")
        assert await collect(router.stream_chat(config, REQUEST)) == ["b"]
        route = current_route()
        assert route is not None and route.attempts[0].outcome == "timeout"

    run(scenario())


def test_an_embedding_request_fails_over_as_a_whole() -> None:
    targets = Targets(TaskType.TEXT_EMBEDDING, a=[UpstreamConnectionError("refused")], b=["ok"])

    async def scenario() -> None:
        router = make_router(targets)
        config = router_config(TaskType.TEXT_EMBEDDING, targets=["a", "b"])
        result = await router.embed(config, EmbeddingRequest(input=["x", "y", "z"]))
        assert len(result.embeddings) == 3 and targets.calls == ["a", "b"]
        with pytest.raises(UpstreamError, match="answered with TextEmbeddingResult"):
            await router.sparse_embed(config, EmbeddingRequest(input=["x"]))

    run(scenario())
