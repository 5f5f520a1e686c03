"""The Anthropic provider: glue of request + http + response, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

from inference_service.errors import UpstreamError
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest
from inference_service.model.endpoint import Endpoint
from inference_service.providers.anthropic.request import to_anthropic_request
from inference_service.providers.anthropic.response import AnthropicStreamTranslator, parse_anthropic_error
from inference_service.providers.base import ProviderContext
from inference_service.providers.http import iter_raw, open_stream
from inference_service.providers.sse_parser import TruncatedStreamError, iter_events

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider:
    def __init__(self, context: ProviderContext) -> None:
        self._http = context.http

    async def stream_chat(
        self, endpoint: Endpoint, request: ChatCompletionRequest
    ) -> AsyncIterator[ChatCompletionChunk]:
        base = endpoint.service_settings.get("url") or ANTHROPIC_BASE_URL
        url = f"{base.rstrip('/')}/v1/messages"
        body = to_anthropic_request(request, endpoint)
        headers = {
            "x-api-key": endpoint.secrets["api_key"],
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        inference_id = endpoint.inference_id
        translator = AnthropicStreamTranslator(inference_id)
        async with open_stream(
            self._http,
            url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: parse_anthropic_error(status, raw, inference_id, url),
        ) as response:
            try:
                async for event in iter_events(iter_raw(response, url)):
                    chunk = translator.feed(event)
                    if chunk is not None:
                        yield chunk
                    if translator.done:
                        return
            except TruncatedStreamError:
                pass
            raise UpstreamError(
                f"The provider closed the stream for inference entity id [{inference_id}] "
                "before it was complete (no message_stop)"
            )
