"""The Anthropic provider: glue of request + http + response, nothing else."""

from __future__ import annotations

from contextlib import aclosing

from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.endpoint import Endpoint
from inference_service.providers.anthropic.request import to_anthropic_request
from inference_service.providers.anthropic.response import AnthropicStreamTranslator, parse_anthropic_error
from inference_service.providers.base import ChunkStream, ProviderContext, translate_batch
from inference_service.providers.http import stream_events

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider:
    def __init__(self, context: ProviderContext) -> None:
        self._http = context.http

    async def prepare(self, endpoint: Endpoint) -> None:
        """Nothing to load: connections open on first use."""

    def close(self) -> None:
        """Nothing to release: the shared HTTP client is closed by the app."""

    async def stream_chat(self, endpoint: Endpoint, request: ChatCompletionRequest) -> ChunkStream:
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
        events = stream_events(
            self._http,
            url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: parse_anthropic_error(status, raw, inference_id, url),
            inference_id=inference_id,
            is_last=lambda event: event.event == "message_stop",
            last_name="message_stop",
        )
        async with aclosing(events):
            async for batch in events:
                chunks, error = translate_batch(batch, translator.feed)
                if chunks:
                    yield chunks
                if error is not None:
                    raise error
