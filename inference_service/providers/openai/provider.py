"""The OpenAI-compatible provider: glue of request + http + response, nothing else.

One class serves ``openai`` and every OpenAI-compatible service (mistral, deepseek,
hugging_face, azureopenai); what differs between them is an :class:`OpenAiDialect` (data).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field

from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.endpoint import Endpoint
from inference_service.providers.base import ChunkStream, ProviderContext, translate_batch
from inference_service.providers.http import stream_events
from inference_service.providers.openai.request import to_openai_request
from inference_service.providers.openai.response import is_done, parse_openai_error, parse_openai_event

OPENAI_CHAT_URL = "https://api.openai.com/v1/chat/completions"


def bearer_auth(endpoint: Endpoint) -> dict[str, str]:
    headers = {"authorization": f"Bearer {endpoint.secrets['api_key']}"}
    organization = endpoint.service_settings.get("organization_id")
    if organization:
        headers["openai-organization"] = organization
    return headers


def settings_url(endpoint: Endpoint) -> str | None:
    url = endpoint.service_settings.get("url")
    return url if isinstance(url, str) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAiDialect:
    """How one OpenAI-compatible service differs from OpenAI."""

    default_url: str | None = OPENAI_CHAT_URL
    model_setting: str = "model_id"
    max_tokens_field: str = "max_completion_tokens"
    send_model: bool = True
    url: Callable[[Endpoint], str | None] = settings_url
    auth: Callable[[Endpoint], dict[str, str]] = field(default=bearer_auth)

    def chat_url(self, endpoint: Endpoint) -> str:
        url = self.url(endpoint) or self.default_url
        assert url is not None, "settings validation requires a url when there is no default"
        return url


class OpenAiProvider:
    def __init__(self, context: ProviderContext, dialect: OpenAiDialect) -> None:
        self._http = context.http
        self._dialect = dialect

    async def prepare(self, endpoint: Endpoint) -> None:
        """Nothing to load: connections open on first use."""

    def close(self) -> None:
        """Nothing to release: the shared HTTP client is closed by the app."""

    async def stream_chat(self, endpoint: Endpoint, request: ChatCompletionRequest) -> ChunkStream:
        dialect = self._dialect
        url = dialect.chat_url(endpoint)
        body = to_openai_request(
            request,
            endpoint,
            model_setting=dialect.model_setting,
            max_tokens_field=dialect.max_tokens_field,
            send_model=dialect.send_model,
        )
        headers = {
            **(endpoint.task_settings.get("headers") or {}),
            **dialect.auth(endpoint),
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        inference_id = endpoint.inference_id
        events = stream_events(
            self._http,
            url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: parse_openai_error(status, raw, inference_id, url),
            inference_id=inference_id,
            is_last=is_done,
            last_name="[DONE]",
        )
        async with aclosing(events):
            async for batch in events:
                chunks, error = translate_batch(batch, lambda event: parse_openai_event(event, inference_id))
                if chunks:
                    yield chunks
                if error is not None:
                    raise error


def build(dialect: OpenAiDialect) -> Callable[[ProviderContext], OpenAiProvider]:
    return lambda context: OpenAiProvider(context, dialect)
