"""The OpenAI-compatible provider: glue of request + http + response, nothing else.

:class:`OpenAiCompatibleProvider` does the work for every OpenAI-compatible service; each
service (``openai``, mistral, deepseek, hugging_face, azureopenai) is a subclass that only states
how it differs: class attributes for the wire differences, and the hooks :meth:`chat_url` and
:meth:`upstream_model` (and :meth:`auth_headers` where auth is not a bearer API key) reading
its own typed settings (the ``SenderService`` template of the Elasticsearch plugin).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from inference_service.model.chat import ChatCompletionRequest
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.http import UpstreamRequest, stream_chunks
from inference_service.providers.openai.request import to_openai_request
from inference_service.providers.openai.response import TERMINATOR, parse_openai_error, parse_openai_event
from inference_service.providers.openai.settings import OpenAiServiceSettings, OpenAiTaskSettings
from inference_service.providers.schema import ApiKeySecrets

OPENAI_CHAT_URL = "https://api.openai.com/v1/chat/completions"


class OpenAiCompatibleProvider(Provider):
    service: ClassVar[str]
    """The wire ``service`` name, for messages."""
    max_tokens_field: ClassVar[str] = "max_completion_tokens"
    """Services that predate ``max_completion_tokens`` take ``max_tokens``."""
    send_model: ClassVar[bool] = True
    """False where the URL already names the model (Azure deployments)."""

    @abstractmethod
    def chat_url(self, endpoint: EndpointConfig) -> str: ...

    @abstractmethod
    def upstream_model(self, endpoint: EndpointConfig) -> str | None: ...

    def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        return {"authorization": f"Bearer {endpoint.secret(ApiKeySecrets).api_key}"}

    def task_options(self, endpoint: EndpointConfig) -> tuple[str | None, dict[str, str]]:
        """The end-user id and the extra headers of the endpoint's task settings."""
        task = endpoint.task_settings
        if isinstance(task, OpenAiTaskSettings):
            return task.user, dict(task.headers or {})
        return None, {}

    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        url = self.chat_url(endpoint)
        user, extra_headers = self.task_options(endpoint)
        body = to_openai_request(
            request,
            service=self.service,
            model=self.upstream_model(endpoint),
            send_model=self.send_model,
            max_tokens_field=self.max_tokens_field,
            user=user,
        )
        headers = {
            **extra_headers,
            **self.auth_headers(endpoint),
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        inference_id = endpoint.inference_id
        upstream = UpstreamRequest(
            url=url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: parse_openai_error(status, raw, inference_id, url),
        )
        return stream_chunks(
            self.http,
            upstream,
            TERMINATOR,
            inference_id,
            lambda event: parse_openai_event(event, inference_id),
        )


class OpenAiProvider(OpenAiCompatibleProvider):
    service = "openai"

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(OpenAiServiceSettings).url or OPENAI_CHAT_URL

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(OpenAiServiceSettings).model_id

    def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = super().auth_headers(endpoint)
        organization = endpoint.service(OpenAiServiceSettings).organization_id
        if organization:
            headers["openai-organization"] = organization
        return headers
