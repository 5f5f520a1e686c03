"""The provider contract: what every provider module implements.

A provider turns a validated unified chat request plus a stored endpoint into a stream of
unified chunks. Obligations (like httpx's transport docstring):

- ``stream_chat`` is an async generator. It raises an :class:`~inference_service.errors.UpstreamError`
  (or another :class:`~inference_service.errors.InferenceServiceError`) *before its first
  yield* when the provider refuses the request, so the API can answer with a real status.
- It holds every upstream resource in ``async with`` blocks: when the consumer stops early
  (client gone, deadline passed) the generator is closed or cancelled and the upstream
  connection closes with it.
- A malformed or truncated upstream stream is an error, never a silent end.
- It never swallows ``CancelledError`` and never logs or echoes secrets.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from inference_service.errors import InferenceServiceError
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest
from inference_service.model.endpoint import Endpoint
from inference_service.providers.sse_parser import ServerSentEvent

ChunkStream = AsyncGenerator[list[ChatCompletionChunk], None]
"""What ``stream_chat`` returns: an async generator the caller must ``aclose``, yielding
non-empty lists of chunks: everything one upstream read brought, so it is forwarded in one
write (one chunk per list when tokens arrive one by one)."""


def translate_batch(
    batch: list[ServerSentEvent], translate: Callable[[ServerSentEvent], ChatCompletionChunk | None]
) -> tuple[list[ChatCompletionChunk], InferenceServiceError | None]:
    """Translate one read's events; on a failing event, keep the chunks before it.

    A provider yields the chunks first and raises the error after, so nothing the provider
    sent before its error is lost when both arrive in one read.
    """
    chunks: list[ChatCompletionChunk] = []
    for event in batch:
        try:
            chunk = translate(event)
        except InferenceServiceError as exc:
            return chunks, exc
        if chunk is not None:
            chunks.append(chunk)
    return chunks, None


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What a provider is built with: the process-wide pooled HTTP client."""

    http: aiohttp.ClientSession


class Provider(Protocol):
    def stream_chat(self, endpoint: Endpoint, request: ChatCompletionRequest) -> ChunkStream:
        """Stream the provider's answer as unified chunks (see the module obligations)."""
        ...

    async def prepare(self, endpoint: Endpoint) -> None:
        """Load what ``endpoint`` needs before its first request (a local model); remote
        providers have nothing to do."""
        ...

    def close(self) -> None:
        """Release what the provider holds (a loaded model); called once at shutdown."""
        ...
