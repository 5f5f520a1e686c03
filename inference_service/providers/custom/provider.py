"""The ``custom`` provider: any HTTP embedding, sparse embedding, rerank or completion API,
described by its endpoint's templates and JSON paths. Glue of request + http + response only."""

from __future__ import annotations

from collections.abc import Mapping

from inference_service.errors import (
    IllegalArgumentError,
    InvalidRequestError,
    UnsupportedError,
    validation_failed,
)
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChunkChoice,
    Delta,
    UserMessage,
)
from inference_service.model.embedding import EmbeddingRequest, SparseEmbeddingResult, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest, RerankResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.custom.request import (
    TemplateError,
    build_request,
    completion_builtins,
    dry_run,
    embedding_builtins,
    parameters,
    probe_url,
    rerank_builtins,
    shadowed_secrets,
)
from inference_service.providers.custom.response import (
    parse_custom_completion,
    parse_custom_embeddings,
    parse_custom_error,
    parse_custom_rerank,
    parse_custom_sparse_embeddings,
)
from inference_service.providers.custom.settings import (
    CUSTOM_SETTINGS,
    DEFAULT_BATCH_SIZE,
    CustomCompletionSettings,
    CustomRerankSettings,
    CustomSecrets,
    CustomSettings,
    CustomSparseEmbeddingSettings,
    CustomTaskSettings,
    CustomTextEmbeddingSettings,
)
from inference_service.providers.http import UpstreamRequest, post_json
from inference_service.providers.penalties import refuse_penalties
from inference_service.providers.schema import SettingsStruct

CHUNK_OBJECT = "chat.completion.chunk"


class CustomProvider(Provider):
    def batch_size(self, endpoint: EndpointConfig) -> int:
        """The endpoint's ``batch_size`` (default 10): inputs per upstream call."""
        return _settings(endpoint).batch_size or DEFAULT_BATCH_SIZE

    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        settings = endpoint.service(CustomTextEmbeddingSettings)
        builtins = embedding_builtins(request.input, request.input_type, settings.input_type)
        raw = await self._call(endpoint, settings, builtins)
        return parse_custom_embeddings(raw, settings.response.json_parser, endpoint.inference_id)

    async def sparse_embed(
        self, endpoint: EndpointConfig, request: EmbeddingRequest
    ) -> SparseEmbeddingResult:
        settings = endpoint.service(CustomSparseEmbeddingSettings)
        builtins = embedding_builtins(request.input, request.input_type, settings.input_type)
        raw = await self._call(endpoint, settings, builtins)
        return parse_custom_sparse_embeddings(raw, settings.response.json_parser, endpoint.inference_id)

    async def rerank(self, endpoint: EndpointConfig, request: RerankRequest) -> RerankResult:
        settings = endpoint.service(CustomRerankSettings)
        raw = await self._call(endpoint, settings, rerank_builtins(request))
        return parse_custom_rerank(raw, settings.response.json_parser, endpoint.inference_id)

    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        """``completion`` only (Elasticsearch's custom service does not stream): one upstream
        call, its whole answer as one chunk."""
        settings = endpoint.service(CustomCompletionSettings)
        return self._complete(endpoint, settings, _prompt(request))

    async def _complete(
        self, endpoint: EndpointConfig, settings: CustomCompletionSettings, prompt: str
    ) -> ChunkStream:
        raw = await self._call(endpoint, settings, completion_builtins(prompt))
        text = parse_custom_completion(raw, settings.response.json_parser, endpoint.inference_id)
        choice = ChunkChoice(delta=Delta(role="assistant", content=text), finish_reason="stop", index=0)
        yield [ChatCompletionChunk(id=endpoint.inference_id, choices=[choice], model="", object=CHUNK_OBJECT)]

    async def _call(
        self, endpoint: EndpointConfig, settings: CustomSettings, builtins: Mapping[str, str]
    ) -> bytes:
        secrets = endpoint.secret(CustomSecrets).secret_parameters
        task = endpoint.task(CustomTaskSettings).values()
        problem = shadowed_secrets(secrets, task)
        if problem is not None:
            raise InvalidRequestError(validation_failed([problem]))
        try:
            built = build_request(settings, parameters(secrets, task, builtins))
        except TemplateError as exc:
            raise IllegalArgumentError(str(exc)) from None
        inference_id = endpoint.inference_id
        upstream = UpstreamRequest(
            url=built.url,
            headers=built.headers,
            body=built.body,
            parse_error=lambda status, raw: parse_custom_error(status, raw, inference_id),
            secrets=endpoint.secrets,
            shown_url=settings.url,
        )
        return await post_json(self.http, upstream, self.max_response_bytes)


def check_custom_settings(
    task_type: TaskType, service: SettingsStruct, task: SettingsStruct, secrets: SettingsStruct
) -> list[str]:
    """The spec's cross-scope rules: no task parameter named like a secret parameter, and the
    templates fill in with mock inputs (:func:`~inference_service.providers.custom.request.dry_run`)."""
    if not isinstance(service, CUSTOM_SETTINGS):
        raise TypeError(f"not custom service settings: {type(service).__name__}")
    if not isinstance(task, CustomTaskSettings) or not isinstance(secrets, CustomSecrets):
        raise TypeError("not custom task settings and secrets")
    return dry_run(task_type, service, secrets.secret_parameters, task.values())


def custom_call_urls(
    task_type: TaskType, service: SettingsStruct, task: SettingsStruct, secrets: SettingsStruct
) -> dict[str, str]:
    """The spec's ``call_urls``: the ``url`` template filled in with the endpoint's parameters."""
    if not isinstance(service, CUSTOM_SETTINGS):
        raise TypeError(f"not custom service settings: {type(service).__name__}")
    if not isinstance(task, CustomTaskSettings) or not isinstance(secrets, CustomSecrets):
        raise TypeError("not custom task settings and secrets")
    url = probe_url(task_type, service, secrets.secret_parameters, task.values())
    return {} if url is None else {"url": url}


def _settings(endpoint: EndpointConfig) -> CustomSettings:
    settings = endpoint.service_settings
    if not isinstance(settings, CUSTOM_SETTINGS):
        raise TypeError(
            f"[{endpoint.inference_id}] has {type(settings).__name__}, not custom service settings"
        )
    return settings


def _prompt(request: ChatCompletionRequest) -> str:
    """The text of a completion: one user message of text (what the completion task sends).
    A template has no place for a JSON ``response_format``, a ``seed`` or a penalty other than 0:
    those are refused."""
    if request.json_output is not None or request.seed is not None:
        field = "response_format" if request.json_output is not None else "seed"
        raise UnsupportedError(f"[{field}] is not supported by the [custom] service", param=field)
    refuse_penalties(request, "custom")
    messages = request.messages
    if len(messages) == 1 and isinstance(messages[0], UserMessage) and isinstance(messages[0].content, str):
        return messages[0].content
    raise UnsupportedError("The [custom] service completes one user message of text, not a chat")
