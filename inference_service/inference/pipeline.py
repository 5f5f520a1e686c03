"""The wrappers around every provider call: one chain, built once, shared by every face.

A cross-cutting concern (the rate-limit gate now; metrics, usage accounting, retries,
failover and a cache to come) is a :class:`Wrapper`: it takes the handler that makes the call
and returns one that does the same with its concern added, the way ASGI middleware wraps an
app. :func:`compose` applies the wrappers once at start-up, so a request pays only for the
wrappers themselves, never for assembling them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.base import ChunkStream, EndpointConfig

if TYPE_CHECKING:
    from inference_service.endpoints.catalog import ResolvedEndpoint

ChatHandler = Callable[["ResolvedEndpoint", EndpointConfig, ChatCompletionRequest], ChunkStream]
"""Streams a chat from the endpoint: the resolved endpoint, the configuration for this
request (per-request task settings applied) and the request."""


class Wrapper:
    """One concern around the provider call. The default adds nothing."""

    def stream(self, inner: ChatHandler) -> ChatHandler:
        return inner


def call_provider(
    target: ResolvedEndpoint, config: EndpointConfig, request: ChatCompletionRequest
) -> ChunkStream:
    """The innermost handler: the provider itself."""
    return target.provider.stream_chat(config, request)


def compose(wrappers: Sequence[Wrapper]) -> ChatHandler:
    """The provider call inside ``wrappers``; the first wrapper is the outermost."""
    handler: ChatHandler = call_provider
    for wrapper in reversed(wrappers):
        handler = wrapper.stream(handler)
    return handler
