"""What each provider call used: tokens and finish reasons, into the request's record.

A :class:`~inference_service.inference.pipeline.Wrapper` just inside the response cache, so a
cache hit counts no tokens (the provider was not paid for it) and every call a request makes
(each completion input, each embedding batch, each router target that answered) adds its own.
A stream's usage is the last one its chunks reported (providers repeat or complete it as they
go), added to the record when the stream ends, however it ends.
"""

from __future__ import annotations

from typing import Any

from inference_service.inference.pipeline import ChatHandler, UnaryHandler, UnaryRequest, UnaryResult, Wrapper
from inference_service.inference.record import current_record
from inference_service.model.chat import ChatCompletionRequest, Usage
from inference_service.model.embedding import TextEmbeddingResult
from inference_service.providers.base import ChunkStream, EndpointConfig


class Metering(Wrapper):
    def stream(self, inner: ChatHandler) -> ChatHandler:
        async def metered(target: Any, config: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
            record = current_record()
            usage: Usage | None = None
            stream = inner(target, config, request)
            try:
                async for batch in stream:
                    for chunk in batch:
                        if chunk.usage is not None:
                            usage = chunk.usage
                        for choice in chunk.choices:
                            if choice.finish_reason is not None:
                                record.finish_reasons.append(choice.finish_reason)
                    yield batch
            finally:
                await stream.aclose()
                if usage is not None:
                    record.input_tokens += usage.prompt_tokens
                    record.output_tokens += usage.completion_tokens

        return metered

    def unary(self, inner: UnaryHandler) -> UnaryHandler:
        async def metered(target: Any, config: EndpointConfig, request: UnaryRequest) -> UnaryResult:
            result = await inner(target, config, request)
            if isinstance(result, TextEmbeddingResult) and result.input_tokens:
                current_record().input_tokens += result.input_tokens
            return result

        return metered
