"""Provider declarations are checked at start-up (inference_service.providers.registry)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

import msgspec
import pytest

from inference_service.errors import BadRequestError, UnsupportedError
from inference_service.model.chat import ChatCompletionRequest, UserMessage
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.rerank import RerankRequest
from inference_service.model.task_type import TaskType
from inference_service.providers import BUILTIN_PROVIDERS
from inference_service.providers.base import ChunkStream, EndpointConfig, Provider
from inference_service.providers.registry import (
    ProviderRegistry,
    ProviderSpecError,
    builtin_registry,
    check_spec,
)
from inference_service.providers.schema import (
    Destination,
    NoSecrets,
    NoTaskSettings,
    RateLimit,
    ServiceSettings,
    SettingsStruct,
    Url,
)
from inference_service.providers.spec import ProviderSpec

CHAT = TaskType.CHAT_COMPLETION
COMPLETION = TaskType.COMPLETION
EMBEDDING = TaskType.TEXT_EMBEDDING


class Plain(SettingsStruct):
    model: str


class Limited(SettingsStruct):
    model: str
    rate_limit: RateLimit | None = None


class Bare(Provider):
    """Overrides no task method; built without an HTTP client (these tests never call out)."""

    def __init__(self) -> None:
        pass


class Chat(Bare):
    def stream_chat(self, endpoint: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
        raise NotImplementedError


class Embed(Bare):
    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        return TextEmbeddingResult(embeddings=[[0.0] for _ in request.input])


def spec(
    provider: type[Provider] = Chat,
    service_settings: Mapping[TaskType, type[SettingsStruct]] | None = None,
    *,
    name: str = "p",
    task_settings: Mapping[TaskType, type[SettingsStruct]] | None = None,
    default_rate_limit: Mapping[TaskType, int] | None = None,
) -> ProviderSpec:
    return ProviderSpec(
        name=name,
        provider=provider,
        service_settings={CHAT: Plain, COMPLETION: Plain} if service_settings is None else service_settings,
        secrets=NoSecrets,
        task_settings=task_settings or {},
        default_rate_limit=default_rate_limit or {},
    )


def refused(declaration: ProviderSpec, message: str) -> None:
    with pytest.raises(ProviderSpecError, match=f"^{re.escape(message)}$"):
        check_spec(declaration)
    with pytest.raises(ProviderSpecError, match=f"^{re.escape(message)}$"):
        ProviderRegistry([declaration])


def test_a_consistent_declaration_is_accepted() -> None:
    registry = ProviderRegistry(
        [
            spec(name="chat", task_settings={CHAT: NoTaskSettings}),
            spec(Embed, {EMBEDDING: Limited}, name="embed", default_rate_limit={EMBEDDING: 60}),
        ]
    )
    assert registry.names == ["chat", "embed"]
    assert [s.name for s in registry.specs] == ["chat", "embed"]
    assert registry.get("embed").provider is Embed


def test_a_duplicate_name_is_refused() -> None:
    with pytest.raises(ProviderSpecError, match=r"^provider \[p\] is registered twice$"):
        ProviderRegistry([spec(), spec(Embed, {EMBEDDING: Plain})])


def test_no_task_types_is_refused() -> None:
    refused(spec(Bare, {}), "provider [p] declares no task types")


def test_a_declared_task_type_without_its_method_is_refused() -> None:
    refused(
        spec(Chat, {CHAT: Plain, COMPLETION: Plain, EMBEDDING: Plain}),
        "provider [p] declares task types [chat_completion, completion, text_embedding] "
        "but Chat implements [chat_completion, completion]",
    )
    refused(
        spec(Bare, {EMBEDDING: Plain}),
        "provider [p] declares task types [text_embedding] but Bare implements []",
    )


def test_an_implemented_method_not_declared_is_refused() -> None:
    refused(
        spec(Embed, {CHAT: Plain}),
        "provider [p] declares task types [chat_completion] but Embed implements [text_embedding]",
    )


def test_stream_chat_may_serve_chat_completion_or_completion_alone() -> None:
    check_spec(spec(Chat, {CHAT: Plain}))
    check_spec(spec(Chat, {COMPLETION: Plain}))


def test_task_settings_for_an_undeclared_task_type_are_refused() -> None:
    refused(
        spec(task_settings={CHAT: NoTaskSettings, EMBEDDING: NoTaskSettings}),
        "provider [p] has task settings for undeclared task types [text_embedding]",
    )


def test_default_rate_limits_for_an_undeclared_task_type_are_refused() -> None:
    refused(
        spec(default_rate_limit={TaskType.RERANK: 10}),
        "provider [p] has default rate limits for undeclared task types [rerank]",
    )


def test_rate_limited_settings_need_a_default_rate_limit() -> None:
    refused(
        spec(service_settings={CHAT: Limited, COMPLETION: Limited}, default_rate_limit={CHAT: 5}),
        "provider [p] has no default rate limit for [completion]",
    )


class Forgetful(SettingsStruct):
    model: str
    base_url: str | None = None


class Declared(SettingsStruct):
    model: str
    base_url: Url | None = None
    resource_name: Destination | None = None


@pytest.mark.parametrize("name", ["url", "base_url", "host", "api_host", "endpoint", "resource_name"])
def test_a_setting_named_like_a_destination_must_be_declared_one(name: str) -> None:
    struct = msgspec.defstruct("S", [("model", str), (name, str | None, None)], bases=(SettingsStruct,))
    assert issubclass(struct, SettingsStruct)
    refused(
        spec(service_settings={CHAT: struct}),
        f"provider [p] setting [{name}] of task type [chat_completion] names where calls go but is "
        "neither a Url nor a Destination (providers.schema)",
    )


def test_declared_destinations_are_accepted_and_listed() -> None:
    check_spec(spec(service_settings={CHAT: Declared}))
    assert spec(service_settings={CHAT: Declared}).destination_settings(CHAT) == ("base_url", "resource_name")
    refused(
        spec(service_settings={CHAT: Forgetful}),
        "provider [p] setting [base_url] of task type [chat_completion] names where calls go but is "
        "neither a Url nor a Destination (providers.schema)",
    )


def test_builtin_providers_declare_their_destinations() -> None:
    """The settings that decide where each builtin provider's secrets go, as the rules see them."""
    found = {
        s.name: sorted({n for t in s.task_types for n in s.destination_settings(t)})
        for s in BUILTIN_PROVIDERS
    }
    url_only = ["url"]
    assert found == {
        "openai": url_only,
        "mistral": url_only,
        "deepseek": url_only,
        "hugging_face": url_only,
        "azureopenai": ["resource_name", "url"],
        "anthropic": url_only,
        "llamacpp": [],
        "cohere": url_only,
        "custom": ["headers", "query_parameters", "request", "url"],
        "googleaistudio": url_only,
        "jinaai": url_only,
        "voyageai": url_only,
        "splade": [],
        "router": [],
    }


def test_builtin_registry_accepts_the_builtins() -> None:
    registry = builtin_registry()
    assert registry.names == sorted(spec.name for spec in BUILTIN_PROVIDERS)
    assert {
        "anthropic",
        "azureopenai",
        "custom",
        "deepseek",
        "hugging_face",
        "llamacpp",
        "mistral",
        "openai",
    } <= set(registry.names)
    assert sorted(registry.specs, key=lambda s: s.name) == sorted(BUILTIN_PROVIDERS, key=lambda s: s.name)
    for builtin in BUILTIN_PROVIDERS:
        check_spec(builtin)
        assert registry.get(builtin.name) is builtin


def test_an_unknown_service_is_a_400() -> None:
    with pytest.raises(BadRequestError, match=r"^Unknown service \[nope\]$"):
        builtin_registry().get("nope")


# --- task methods a provider does not override ---------------------------------------------


def config(task_type: TaskType) -> EndpointConfig:
    return EndpointConfig(
        inference_id="ep",
        task_type=task_type,
        service_settings=Plain(model="m"),
        task_settings=NoTaskSettings(),
        secrets=NoSecrets(),
    )


def test_stream_chat_not_overridden_raises_unsupported_when_called() -> None:
    request = ChatCompletionRequest(messages=[UserMessage(content="hi")])
    with pytest.raises(UnsupportedError) as caught:
        Embed().stream_chat(config(CHAT), request)
    assert caught.value.reason == "The [Embed] provider does not support task type [chat_completion]"
    assert caught.value.status == 400


def test_async_task_methods_not_overridden_raise_unsupported() -> None:
    provider = Chat()
    texts = EmbeddingRequest(input=["a"])

    async def call(task_type: TaskType) -> object:
        if task_type == EMBEDDING:
            return await provider.embed(config(task_type), texts)
        if task_type == TaskType.SPARSE_EMBEDDING:
            return await provider.sparse_embed(config(task_type), texts)
        return await provider.rerank(config(task_type), RerankRequest(query="q", input=["a"]))

    for task_type in (EMBEDDING, TaskType.SPARSE_EMBEDDING, TaskType.RERANK):
        with pytest.raises(UnsupportedError) as caught:
            asyncio.run(call(task_type))
        assert caught.value.reason == f"The [Chat] provider does not support task type [{task_type}]"


def test_an_overridden_method_is_the_providers_own() -> None:
    result = asyncio.run(Embed().embed(config(EMBEDDING), EmbeddingRequest(input=["a", "b"])))
    assert result == TextEmbeddingResult(embeddings=[[0.0], [0.0]])


def test_every_provider_but_the_router_has_the_common_service_settings() -> None:
    """``upstream_max_retries`` is declared once (``ServiceSettings``) and known to every
    provider; a router's targets retry, so the router itself does not take it."""
    for spec in builtin_registry().specs:
        for task_type, struct in spec.service_settings.items():
            common = issubclass(struct, ServiceSettings)
            assert common == (spec.name != "router"), (spec.name, task_type, struct.__name__)
