"""The Anthropic provider: glue of request + http + response, nothing else."""

from __future__ import annotations

from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.anthropic.request import json_tool, to_anthropic_request
from inference_service.providers.anthropic.response import (
    TERMINATOR,
    AnthropicStreamTranslator,
    parse_anthropic_error,
)
from inference_service.providers.anthropic.settings import AnthropicServiceSettings, AnthropicTaskSettings
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.http import UpstreamRequest, stream_chunks
from inference_service.providers.schema import ApiKeySecrets

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider(Provider):
    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        settings = endpoint.service(AnthropicServiceSettings)
        url = f"{(settings.url or ANTHROPIC_BASE_URL).rstrip('/')}/v1/messages"
        body = to_anthropic_request(request, settings, endpoint.task(AnthropicTaskSettings))
        headers = {
            "x-api-key": endpoint.secret(ApiKeySecrets).api_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        inference_id = endpoint.inference_id
        upstream = UpstreamRequest(
            url=url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: parse_anthropic_error(status, raw, inference_id, url),
            secrets=endpoint.secrets,
        )
        translator = AnthropicStreamTranslator(inference_id, json_tool(request))
        return stream_chunks(self.http, upstream, TERMINATOR, inference_id, translator.feed)
