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

from inference_service.errors import UpstreamError
from inference_service.model.chat import ChatCompletionRequest
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.http import UpstreamRequest, post_json, stream_chunks
from inference_service.providers.openai.embeddings import (
    parse_openai_embeddings,
    to_openai_embeddings_request,
)
from inference_service.providers.openai.request import OPENAI, Dialect, to_openai_request
from inference_service.providers.openai.response import TERMINATOR, parse_openai_error, parse_openai_event
from inference_service.providers.openai.settings import (
    OpenAiEmbeddingServiceSettings,
    OpenAiServiceSettings,
    OpenAiTaskSettings,
)
from inference_service.providers.schema import ApiKeySecrets, EmbeddingSettings

OPENAI_CHAT_URL = "https://api.openai.com/v1/chat/completions"
OPENAI_EMBEDDINGS_URL = "https://api.openai.com/v1/embeddings"


class OpenAiCompatibleProvider(Provider):
    service: ClassVar[str]
    """The wire ``service`` name, for messages."""
    max_tokens_field: ClassVar[str] = "max_completion_tokens"
    """Services that predate ``max_completion_tokens`` take ``max_tokens``."""
    send_model: ClassVar[bool] = True
    """False where the URL already names the model (Azure deployments)."""
    dialect: ClassVar[Dialect] = OPENAI
    """Which ``response_format`` types, ``seed`` and ``parallel_tool_calls`` the service takes."""

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
            dialect=self.dialect,
        )
        headers = {
            **extra_headers,
            **self.auth_headers(endpoint),
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        upstream = self.upstream(endpoint, url, headers, body)
        inference_id = endpoint.inference_id
        return stream_chunks(
            self.http,
            upstream,
            TERMINATOR,
            inference_id,
            lambda event: parse_openai_event(event, inference_id),
        )

    def upstream(
        self, endpoint: EndpointConfig, url: str, headers: dict[str, str], body: bytes
    ) -> UpstreamRequest:
        inference_id = endpoint.inference_id
        return UpstreamRequest(
            url=url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: parse_openai_error(status, raw, inference_id, url),
            secrets=endpoint.secrets,
        )


class OpenAiEmbeddings(OpenAiCompatibleProvider):
    """``text_embedding`` through OpenAI's Embeddings API, for the services that serve it."""

    send_dimensions: ClassVar[bool] = True
    """False where the service takes no ``dimensions`` (Mistral): the user's value is then only
    checked against the vectors that come back."""

    @abstractmethod
    def embeddings_url(self, endpoint: EndpointConfig) -> str: ...

    @abstractmethod
    def embeddings_model(self, endpoint: EndpointConfig) -> str | None: ...

    def parse_embeddings_error(self, status: int, raw: bytes, inference_id: str, url: str) -> UpstreamError:
        """A non-2xx embeddings answer; services whose error bodies are not OpenAI's override it."""
        return parse_openai_error(status, raw, inference_id, url)

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        settings = endpoint.service(EmbeddingSettings)
        user, extra_headers = self.task_options(endpoint)
        chosen = settings.dimensions if settings.dimensions_set_by_user else None
        body = to_openai_embeddings_request(
            request,
            model=self.embeddings_model(endpoint),
            dimensions=chosen if self.send_dimensions else None,
            user=user,
        )
        headers = {**extra_headers, **self.auth_headers(endpoint), "content-type": "application/json"}
        url = self.embeddings_url(endpoint)
        inference_id = endpoint.inference_id
        upstream = UpstreamRequest(
            url=url,
            headers=headers,
            body=body,
            parse_error=lambda status, raw: self.parse_embeddings_error(status, raw, inference_id, url),
            secrets=endpoint.secrets,
        )
        raw = await post_json(self.http, upstream, self.max_response_bytes)
        return parse_openai_embeddings(raw, inference_id)


class OpenAiProvider(OpenAiEmbeddings):
    service = "openai"

    def chat_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(OpenAiServiceSettings).url or OPENAI_CHAT_URL

    def upstream_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(OpenAiServiceSettings).model_id

    def embeddings_url(self, endpoint: EndpointConfig) -> str:
        return endpoint.service(OpenAiEmbeddingServiceSettings).url or OPENAI_EMBEDDINGS_URL

    def embeddings_model(self, endpoint: EndpointConfig) -> str | None:
        return endpoint.service(OpenAiEmbeddingServiceSettings).model_id

    def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        headers = super().auth_headers(endpoint)
        settings = endpoint.service_settings
        organization = (
            settings.organization_id
            if isinstance(settings, OpenAiServiceSettings | OpenAiEmbeddingServiceSettings)
            else None
        )
        if organization:
            headers["openai-organization"] = organization
        return headers
