"""The service layer: what every API face calls to perform inference.

A face decodes its request, calls :class:`InferenceService` and renders what comes back; it
never talks to a provider itself. Here, once for every face: the endpoint is resolved from the
catalog (no database query), per-request ``task_settings`` are validated and applied, the
deadline is derived, and the provider is called through the wrapper chain
(:mod:`inference_service.inference.pipeline`). Non-streaming answers are the stream put
together (:mod:`inference_service.inference.aggregate`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from inference_service.endpoints.catalog import EndpointCatalog, ResolvedEndpoint
from inference_service.endpoints.configuration import override_task_settings
from inference_service.inference.aggregate import aggregate_chat
from inference_service.inference.deadline import Deadline, default_timeout
from inference_service.inference.pipeline import Wrapper, compose
from inference_service.model.chat import ChatCompletion, ChatCompletionRequest, UserMessage
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig
from inference_service.settings import Settings


class InferenceService:
    def __init__(self, settings: Settings, catalog: EndpointCatalog, wrappers: Sequence[Wrapper]) -> None:
        self.settings = settings
        self.catalog = catalog
        self._chat = compose(wrappers)

    async def resolve(self, inference_id: str) -> ResolvedEndpoint:
        """The endpoint ready to serve (404 when there is none)."""
        return await self.catalog.resolve(inference_id)

    def deadline(self, task_type: TaskType, raw: str | None) -> Deadline:
        """The request's deadline from a ``timeout`` time value, or the task type's default."""
        return Deadline.parse(raw, default_timeout(self.settings, task_type))

    @staticmethod
    def configure(target: ResolvedEndpoint, task_settings: Mapping[str, Any] | None) -> EndpointConfig:
        """The configuration for one request: the endpoint's, with the request's
        ``task_settings`` merged over its own and validated as on PUT."""
        if not task_settings:
            return target.config
        return override_task_settings(target.spec, target.endpoint, target.config, task_settings)

    def stream_chat(
        self, target: ResolvedEndpoint, request: ChatCompletionRequest, config: EndpointConfig | None = None
    ) -> ChunkStream:
        """The answer as a stream of chunks (the caller closes it and applies the deadline to the
        first chunk)."""
        return self._chat(target, config or target.config, request)

    async def chat(
        self,
        target: ResolvedEndpoint,
        request: ChatCompletionRequest,
        deadline: Deadline,
        config: EndpointConfig | None = None,
    ) -> ChatCompletion:
        """The whole answer at once; the deadline covers all of it."""
        try:
            async with asyncio.timeout(deadline.seconds):
                return await aggregate_chat(self.stream_chat(target, request, config))
        except TimeoutError:
            raise deadline.expired() from None

    def stream_completion(self, target: ResolvedEndpoint, text: str, config: EndpointConfig) -> ChunkStream:
        """A completion is a chat with one user message."""
        return self.stream_chat(target, completion_chat(text), config)

    async def complete(
        self, target: ResolvedEndpoint, inputs: Sequence[str], config: EndpointConfig, deadline: Deadline
    ) -> list[str]:
        """One completion per input, run concurrently; the deadline covers all of them."""

        async def one(text: str) -> str:
            answer = await aggregate_chat(self.stream_completion(target, text, config))
            return answer.choices[0].message.content or ""

        try:
            async with asyncio.timeout(deadline.seconds):
                return list(await asyncio.gather(*(one(text) for text in inputs)))
        except TimeoutError:
            raise deadline.expired() from None


def completion_chat(text: str) -> ChatCompletionRequest:
    return ChatCompletionRequest(messages=[UserMessage(content=text)])
