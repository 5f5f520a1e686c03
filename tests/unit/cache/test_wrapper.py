"""The cache wrapper (inference_service.cache.wrapper): what is stored, when, and what a hit
replays; the provider is a generator that counts its calls."""

from __future__ import annotations

import asyncio
from typing import Any

from inference_service.cache.store import MemoryCache
from inference_service.cache.wrapper import ResponseCache
from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference.record import begin_request
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChunkChoice,
    Delta,
    UserMessage,
)
from inference_service.providers.base import ChunkStream, EndpointConfig
from tests.support.endpoints import chat_endpoint

REQUEST = ChatCompletionRequest(messages=[UserMessage(content="Hi")])


def batch(text: str) -> list[ChatCompletionChunk]:
    choice = ChunkChoice(delta=Delta(content=text), index=0)
    return [ChatCompletionChunk(id="c", choices=[choice], model="m", object="chat.completion.chunk")]


class Upstream:
    def __init__(self, *texts: str, fail: bool = False) -> None:
        self.texts = texts
        self.fail = fail
        self.calls = 0

    def handler(self, _target: Any, _config: EndpointConfig, _request: ChatCompletionRequest) -> ChunkStream:
        self.calls += 1
        return self._stream()

    async def _stream(self) -> ChunkStream:
        for text in self.texts:
            yield batch(text)
        if self.fail:
            raise RuntimeError("provider broke off")


def serve(
    upstream: Upstream, ep: ResolvedEndpoint, *, take: int | None = None, cache_control: str | None = None
) -> tuple[list[str], str | None]:
    """One request in a fresh context: the texts it got and its X-Cache outcome."""
    store = STORE
    handler = ResponseCache(store).stream(upstream.handler)

    async def consume() -> tuple[list[str], str | None]:
        record = begin_request(cache_control)
        stream = handler(ep, ep.config, REQUEST)
        texts: list[str] = []
        try:
            async for got in stream:
                texts += [c.choices[0].delta.content or "" for c in got]
                if take is not None and len(texts) >= take:
                    break
        except RuntimeError:
            texts.append("<error>")
        finally:
            await stream.aclose()
        return texts, record.cache.outcome if record.cache is not None else None

    return asyncio.run(consume())


STORE = MemoryCache(1 << 20)


def test_a_complete_stream_is_stored_and_replayed() -> None:
    ep = chat_endpoint(cache={"ttl": "1m"})
    upstream = Upstream("a", "b")
    assert serve(upstream, ep) == (["a", "b"], "miss")
    assert serve(upstream, ep) == (["a", "b"], "hit")
    assert upstream.calls == 1


def test_a_stream_left_early_or_broken_off_stores_nothing() -> None:
    ep = chat_endpoint(cache={"ttl": "2m"})
    upstream = Upstream("a", "b", "c")
    assert serve(upstream, ep, take=1) == (["a"], "miss")
    assert serve(upstream, ep) == (["a", "b", "c"], "miss")
    broken = chat_endpoint(cache={"ttl": "3m"})
    failing = Upstream("x", fail=True)
    assert serve(failing, broken) == (["x", "<error>"], "miss")
    assert serve(failing, broken) == (["x", "<error>"], "miss")
    assert failing.calls == 2


def test_no_store_and_no_cache() -> None:
    ep = chat_endpoint(cache={"ttl": "4m"})
    upstream = Upstream("a")
    assert serve(upstream, ep, cache_control="no-store") == (["a"], "miss")
    assert serve(upstream, ep, cache_control="no-cache") == (["a"], "miss")
    assert serve(upstream, ep) == (["a"], "hit")
    assert upstream.calls == 2


def test_an_endpoint_without_a_cache_is_passed_through_untouched() -> None:
    ep = chat_endpoint()
    upstream = Upstream("a")
    assert serve(upstream, ep) == (["a"], None)
    assert serve(upstream, ep) == (["a"], None)
    assert upstream.calls == 2
