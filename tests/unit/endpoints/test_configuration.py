"""Endpoint settings (inference_service.endpoints.configuration): strict parsing of requests with
Elasticsearch's messages, lenient loading of stored rows, per-request task settings."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from inference_service.endpoints.chunking import DEFAULT_CHUNKING
from inference_service.endpoints.configuration import (
    EndpointSettings,
    java_map,
    load_config,
    override_task_settings,
    parse_endpoint_settings,
)
from inference_service.errors import InvalidRequestError, UnsupportedError
from inference_service.model.embedding import EmbeddingRequest, TextEmbeddingResult
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers import anthropic, azureopenai, llamacpp, openai
from inference_service.providers.anthropic.settings import AnthropicTaskSettings
from inference_service.providers.base import EndpointConfig, Provider
from inference_service.providers.openai.settings import OpenAiServiceSettings, OpenAiTaskSettings
from inference_service.providers.registry import check_spec
from inference_service.providers.schema import ApiKeySecrets, PositiveInt, RateLimit, SettingsStruct, Url
from inference_service.providers.spec import ProviderSpec

CHAT = TaskType.CHAT_COMPLETION
EMBEDDING = TaskType.TEXT_EMBEDDING
OPENAI = openai.PROVIDER
VALID = {"model_id": "gpt-4o-mini", "api_key": "sk-secret-value"}


# A test-only embedding provider: no built-in provider serves text_embedding yet.
class EmbeddingServiceSettings(SettingsStruct):
    model_id: str
    dimensions: PositiveInt | None = None
    url: Url | None = None
    rate_limit: RateLimit | None = None


class EmbeddingProvider(Provider):
    async def embed(self, endpoint: EndpointConfig, request: EmbeddingRequest) -> TextEmbeddingResult:
        raise NotImplementedError


EMBEDDER = ProviderSpec(
    name="test_embedder",
    provider=EmbeddingProvider,
    service_settings={EMBEDDING: EmbeddingServiceSettings},
    secrets=ApiKeySecrets,
    default_rate_limit={EMBEDDING: 3000},
)


def parse(
    service_settings: dict[str, Any],
    task_settings: dict[str, Any] | None = None,
    chunking_settings: dict[str, Any] | None = None,
    *,
    spec: ProviderSpec = OPENAI,
    task_type: TaskType = CHAT,
) -> EndpointSettings:
    return parse_endpoint_settings(spec, task_type, service_settings, task_settings, chunking_settings)


def invalid(*args: Any, **kwargs: Any) -> str:
    """The reason of the validation_exception the settings raise."""
    with pytest.raises(InvalidRequestError) as caught:
        parse(*args, **kwargs)
    assert caught.value.error_type == "validation_exception"
    assert caught.value.status == 400
    return caught.value.reason


def embed(chunking_settings: dict[str, Any] | None) -> EndpointSettings:
    return parse(
        {"model_id": "e5", "api_key": "k"}, None, chunking_settings, spec=EMBEDDER, task_type=EMBEDDING
    )


def test_the_test_embedder_is_a_valid_declaration() -> None:
    check_spec(EMBEDDER)


# --- parse_endpoint_settings ---------------------------------------------------------------


def test_valid_settings_are_split_into_public_task_and_secret_maps() -> None:
    parsed = parse({**VALID, "organization_id": "org-1"}, {"user": "u-1"})
    assert parsed == EndpointSettings(
        service_settings={
            "model_id": "gpt-4o-mini",
            "organization_id": "org-1",
            "rate_limit": {"requests_per_minute": 500},
        },
        task_settings={"user": "u-1"},
        secrets={"api_key": "sk-secret-value"},
        chunking_settings=None,
    )


def test_missing_required_settings() -> None:
    assert invalid({}) == (
        "Validation Failed: 1: [service_settings] does not contain the required setting [model_id];"
        "2: [secret_settings] does not contain the required setting [api_key];"
    )


def test_null_is_missing() -> None:
    assert invalid({"model_id": None, "api_key": "k"}) == (
        "Validation Failed: 1: [service_settings] does not contain the required setting [model_id];"
    )
    # an optional setting given as null is simply not set
    assert parse({**VALID, "url": None}).service_settings == {
        "model_id": "gpt-4o-mini",
        "rate_limit": {"requests_per_minute": 500},
    }


def test_required_task_settings() -> None:
    assert invalid({"model_id": "claude", "api_key": "k"}, spec=anthropic.PROVIDER) == (
        "Validation Failed: 1: [task_settings] does not contain the required setting [max_tokens];"
    )


def test_empty_strings() -> None:
    assert invalid({"model_id": "", "api_key": ""}) == (
        "Validation Failed: "
        "1: [service_settings] Invalid value empty string. [model_id] must be a non-empty string;"
        "2: [secret_settings] Invalid value empty string. [api_key] must be a non-empty string;"
    )


def test_wrong_types_echo_the_value_except_for_secrets() -> None:
    reason = invalid({"model_id": 5, "api_key": 12345})
    assert reason == (
        "Validation Failed: "
        "1: [service_settings] Invalid value [5] for setting [model_id]: Expected `str`, got `int`;"
        "2: [secret_settings] Invalid value for setting [api_key]: Expected `str`, got `int`;"
    )
    reason = invalid({"model_id": "m", "api_key": ["sk-leaked-if-echoed"]})
    assert reason == (
        "Validation Failed: 1: [secret_settings] Invalid value for setting [api_key]: "
        "Expected `str`, got `array`;"
    )
    assert "sk-leaked-if-echoed" not in reason


def test_nested_errors_name_the_path() -> None:
    assert invalid({**VALID, "rate_limit": {"requests_per_minute": 0}}) == (
        "Validation Failed: 1: [service_settings] Invalid value [{requests_per_minute=0}] for setting "
        "[rate_limit]: Expected `int` >= 1 - at `$.rate_limit.requests_per_minute`;"
    )
    assert invalid({**VALID, "rate_limit": {"rpm": 3}}) == (
        "Validation Failed: 1: [service_settings] Invalid value [{rpm=3}] for setting [rate_limit]: "
        "Object contains unknown field `rpm`;"
    )


def test_constraint_errors() -> None:
    assert invalid({"context_size": 10}, {"temperature": 3}, spec=llamacpp.PROVIDER) == (
        "Validation Failed: "
        "1: [service_settings] Invalid value [10] for setting [context_size]: Expected `int` >= 256;"
        "2: [task_settings] Invalid value [3] for setting [temperature]: Expected `float` <= 2.0;"
    )
    assert invalid({"model_id": "c", "api_key": "k"}, {"max_tokens": True}, spec=anthropic.PROVIDER) == (
        "Validation Failed: 1: [task_settings] Invalid value [true] for setting [max_tokens]: "
        "Expected `int`, got `bool`;"
    )


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "http://", "example.com/v1", "https:///path", "http://[::1"]
)
def test_invalid_urls(url: str) -> None:
    assert invalid({**VALID, "url": url}) == (
        f"Validation Failed: 1: [service_settings] Invalid url [{url}] received for field [url];"
    )


def test_a_url_of_the_wrong_type_is_a_type_error() -> None:
    assert invalid({**VALID, "url": 5}) == (
        "Validation Failed: 1: [service_settings] Invalid value [5] for setting [url]: "
        "Expected `str | null`, got `int`;"
    )


@pytest.mark.parametrize("url", ["http://localhost:8080/v1/chat/completions", "https://gateway.example"])
def test_valid_urls(url: str) -> None:
    assert parse({**VALID, "url": url}).service_settings["url"] == url


def test_unknown_keys_are_refused_with_elasticsearchs_message() -> None:
    with pytest.raises(UnsupportedError) as caught:
        parse({**VALID, "foo": "bar"}, {"x": 1})
    assert (
        caught.value.reason
        == "Configuration contains settings [{foo=bar, x=1}] unknown to the [openai] service"
    )
    assert caught.value.error_type == "status_exception"
    with pytest.raises(UnsupportedError) as caught:
        parse({**VALID, "nested": {"a": [1, True, None]}})
    assert caught.value.reason == (
        "Configuration contains settings [{nested={a=[1, true, null]}}] unknown to the [openai] service"
    )


def test_task_types_without_task_settings_refuse_every_key() -> None:
    with pytest.raises(UnsupportedError, match=r"^Configuration contains settings \[\{n=1\}\] unknown"):
        parse({"model_id": "e5", "api_key": "k"}, {"n": 1}, spec=EMBEDDER, task_type=EMBEDDING)


def test_several_problems_are_numbered_in_one_message_with_the_unknown_keys_last() -> None:
    assert invalid({"api_key": "k", "foo": "bar"}, {"user": 3}) == (
        "Validation Failed: "
        "1: [service_settings] does not contain the required setting [model_id];"
        "2: [task_settings] Invalid value [3] for setting [user]: Expected `str | null`, got `int`;"
        "3: Configuration contains settings [{foo=bar}] unknown to the [openai] service;"
    )


def test_an_unsupported_task_type() -> None:
    with pytest.raises(UnsupportedError) as caught:
        parse(VALID, task_type=TaskType.RERANK)
    assert caught.value.reason == "The [openai] service does not support task type [rerank]"


def test_cross_field_rules_of_a_struct() -> None:
    azure = {"resource_name": "r", "deployment_id": "d", "api_version": "2024-10-21"}
    expected = (
        "Validation Failed: 1: [secret_settings] exactly one of [api_key] or [entra_id] must be provided;"
    )
    assert invalid(azure, spec=azureopenai.PROVIDER) == expected
    assert invalid({**azure, "api_key": "a", "entra_id": "b"}, spec=azureopenai.PROVIDER) == expected
    assert invalid({"model": "foo"}, spec=llamacpp.PROVIDER) == (
        "Validation Failed: 1: [service_settings] [model] must be [smollm2-135m-instruct], "
        "[gemma-3-270m] or a path to a .gguf file;"
    )


def test_default_rate_limit_is_materialised() -> None:
    assert parse(VALID).service_settings["rate_limit"] == {"requests_per_minute": 500}
    assert parse(
        {"model_id": "c", "api_key": "k"}, {"max_tokens": 5}, spec=anthropic.PROVIDER
    ).service_settings["rate_limit"] == {"requests_per_minute": 50}
    assert embed(None).service_settings["rate_limit"] == {"requests_per_minute": 3000}


def test_an_explicit_rate_limit_is_kept() -> None:
    parsed = parse({**VALID, "rate_limit": {"requests_per_minute": 7}})
    assert parsed.service_settings["rate_limit"] == {"requests_per_minute": 7}


def test_no_rate_limit_for_settings_without_one() -> None:
    assert parse({}, spec=llamacpp.PROVIDER).service_settings == {}


def test_upstream_max_retries_is_a_setting_of_every_provider() -> None:
    parsed = parse({**VALID, "upstream_max_retries": 0})
    assert parsed.service_settings["upstream_max_retries"] == 0
    assert "upstream_max_retries" not in parse(VALID).service_settings  # the service's setting applies
    assert (
        parse(
            {"model_id": "c", "api_key": "k", "upstream_max_retries": 4},
            {"max_tokens": 5},
            spec=anthropic.PROVIDER,
        ).service_settings["upstream_max_retries"]
        == 4
    )
    assert invalid({**VALID, "upstream_max_retries": 11}) == (
        "Validation Failed: 1: [service_settings] Invalid value [11] for setting [upstream_max_retries]: "
        "Expected `int` <= 10;"
    )
    assert invalid({**VALID, "upstream_max_retries": -1}) == (
        "Validation Failed: 1: [service_settings] Invalid value [-1] for setting [upstream_max_retries]: "
        "Expected `int` >= 0;"
    )


# --- chunking settings ---------------------------------------------------------------------


def test_chunking_is_refused_for_task_types_that_do_not_embed() -> None:
    assert invalid(VALID, None, {"strategy": "word"}) == (
        "Validation Failed: 1: [chunking_settings] are not supported for task type [chat_completion];"
    )
    assert parse(VALID, None, {}).chunking_settings is None


@pytest.mark.parametrize("given", [None, {}])
def test_chunking_defaults_are_materialised_for_embeddings(given: dict[str, Any] | None) -> None:
    assert embed(given).chunking_settings == {
        "strategy": "sentence",
        "max_chunk_size": 250,
        "sentence_overlap": 1,
    }
    assert embed(given).chunking_settings == DEFAULT_CHUNKING
    assert embed(given).chunking_settings is not DEFAULT_CHUNKING  # a copy: the default cannot be mutated


@pytest.mark.parametrize(
    "chunking",
    [
        {"strategy": "word", "max_chunk_size": 100, "overlap": 50},
        {"strategy": "word", "max_chunk_size": 10, "overlap": 5},
        {"strategy": "word", "max_chunk_size": 10, "overlap": 0},
        {"strategy": "none"},
        {"strategy": "recursive", "max_chunk_size": 100, "separator_group": "markdown"},
        {"strategy": "recursive", "max_chunk_size": 100, "separator_group": "plaintext"},
        {"strategy": "recursive", "max_chunk_size": 100, "separators": ["\n\n", "\n"]},
        {"strategy": "sentence", "max_chunk_size": 20, "sentence_overlap": 0},
        {"strategy": "sentence", "max_chunk_size": 250},
    ],
)
def test_valid_chunking_settings_are_kept(chunking: dict[str, Any]) -> None:
    """Stored and returned as given; an explicit ``sentence`` strategy is kept too."""
    assert embed(chunking).chunking_settings == chunking


@pytest.mark.parametrize(
    ("chunking", "problems"),
    [
        ({"strategy": "sentence"}, ["does not contain the required setting [max_chunk_size]"]),
        ({"strategy": "sentence", "max_chunk_size": 19}, ["max_chunk_size[19] must be above 20"]),
        (
            {"strategy": "sentence", "max_chunk_size": 19, "sentence_overlap": 2},
            ["max_chunk_size[19] must be above 20", "sentence_overlap[2] must be either 0 or 1"],
        ),
        (
            {"strategy": "sentence", "max_chunk_size": 100, "overlap": 10},
            ["Sentence based chunking settings can not have the following settings: [overlap]"],
        ),
        ({"strategy": "word", "max_chunk_size": 9, "overlap": 4}, ["max_chunk_size [9] must be above 10"]),
        (
            {"strategy": "word", "max_chunk_size": 100, "overlap": 51},
            ["overlap[51] must be less than or equal to half of max chunk size"],
        ),
        ({"strategy": "word", "max_chunk_size": 100, "overlap": -1}, ["overlap[-1] must be at least 0"]),
        ({"strategy": "word", "max_chunk_size": 150}, ["does not contain the required setting [overlap]"]),
        (
            {"strategy": "word"},
            [
                "does not contain the required setting [max_chunk_size]",
                "does not contain the required setting [overlap]",
            ],
        ),
        (
            {"strategy": "word", "max_chunk_size": 100, "overlap": 5, "sentence_overlap": 1},
            ["Word based chunking settings can not have the following settings: [sentence_overlap]"],
        ),
        (
            {"strategy": "recursive"},
            [
                "does not contain the required setting [max_chunk_size]",
                "exactly one of [separators] or [separator_group] is required",
            ],
        ),
        (
            {
                "strategy": "recursive",
                "max_chunk_size": 100,
                "separators": ["\n"],
                "separator_group": "markdown",
            },
            ["Recursive chunking settings can not have both separators and separator_set"],
        ),
        (
            {"strategy": "recursive", "max_chunk_size": 100, "separators": []},
            ["Recursive chunking settings can not have an empty list of separators"],
        ),
        (
            {"strategy": "recursive", "max_chunk_size": 100, "separators": ["x"] * 51},
            ["separators list size [51] must not exceed [50]"],
        ),
        (
            {"strategy": "recursive", "max_chunk_size": 100, "separator_group": "html"},
            ["Invalid separator_group [html]; must be one of [plaintext, markdown]"],
        ),
        (
            {"strategy": "none", "max_chunk_size": 100},
            ["When chunking is disabled (none), settings can not have the following: [max_chunk_size]"],
        ),
        (
            {"strategy": "paragraph"},
            ["Invalid value [paragraph] for [strategy]; must be one of [sentence, word, none, recursive]"],
        ),
        ({"max_chunk_size": 100}, ["Can't generate Chunker without ChunkingStrategy provided"]),
    ],
)
def test_chunking_rules(chunking: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        embed(chunking)
    assert caught.value.reason == "Validation Failed: " + "".join(
        f"{n}: [chunking_settings] {p};" for n, p in enumerate(problems, start=1)
    )


def test_chunking_types_and_unknown_keys() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        embed({"strategy": "word", "max_chunk_size": "big", "overlap": 1})
    assert caught.value.reason == (
        "Validation Failed: 1: [chunking_settings] Invalid value [big] for setting [max_chunk_size]: "
        "Expected `int | null`, got `str`;"
    )
    with pytest.raises(InvalidRequestError) as caught:
        embed({"strategy": ""})
    assert caught.value.reason == (
        "Validation Failed: 1: [chunking_settings] Invalid value empty string. "
        "[strategy] must be a non-empty string;"
    )
    with pytest.raises(UnsupportedError) as unknown:
        embed({"strategy": "none", "bogus": 1})
    assert (
        unknown.value.reason
        == "Configuration contains settings [{bogus=1}] unknown to the [test_embedder] service"
    )


# --- override_task_settings ----------------------------------------------------------------


def endpoint(
    *,
    service: str = "openai",
    task_type: TaskType = CHAT,
    service_settings: dict[str, Any] | None = None,
    task_settings: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> Endpoint:
    return Endpoint(
        inference_id="my-endpoint",
        task_type=task_type,
        service=service,
        service_settings={"model_id": "gpt-4o-mini"} if service_settings is None else service_settings,
        task_settings={} if task_settings is None else task_settings,
        chunking_settings=None,
        secrets={"api_key": "sk-secret-value"} if secrets is None else secrets,
    )


STORED = endpoint(task_settings={"user": "stored-user", "headers": {"x-team": "search"}})


def test_override_merges_the_request_over_the_stored_task_settings() -> None:
    config = load_config(OPENAI, STORED)
    merged = override_task_settings(OPENAI, STORED, config, {"user": "request-user"})
    assert merged == EndpointConfig(
        inference_id="my-endpoint",
        task_type=CHAT,
        service_settings=config.service_settings,
        task_settings=OpenAiTaskSettings(user="request-user", headers={"x-team": "search"}),
        secrets=config.secrets,
    )
    assert config.task(OpenAiTaskSettings).user == "stored-user"  # the endpoint's own is unchanged


def test_override_with_null_unsets_a_stored_setting() -> None:
    config = load_config(OPENAI, STORED)
    merged = override_task_settings(OPENAI, STORED, config, {"headers": None})
    assert merged.task(OpenAiTaskSettings) == OpenAiTaskSettings(user="stored-user")


def test_override_is_strict() -> None:
    config = load_config(OPENAI, STORED)
    with pytest.raises(UnsupportedError) as unknown:
        override_task_settings(OPENAI, STORED, config, {"nope": 1})
    assert (
        unknown.value.reason == "Configuration contains settings [{nope=1}] unknown to the [openai] service"
    )
    with pytest.raises(InvalidRequestError) as wrong:
        override_task_settings(OPENAI, STORED, config, {"user": 3})
    assert wrong.value.reason == (
        "Validation Failed: 1: [task_settings] Invalid value [3] for setting [user]: "
        "Expected `str | null`, got `int`;"
    )


def test_override_validates_the_merge_as_on_put() -> None:
    stored = endpoint(service="anthropic", task_settings={"max_tokens": 100})
    config = load_config(anthropic.PROVIDER, stored)
    merged = override_task_settings(anthropic.PROVIDER, stored, config, {"temperature": 0.5})
    assert merged.task(AnthropicTaskSettings) == AnthropicTaskSettings(max_tokens=100, temperature=0.5)
    with pytest.raises(InvalidRequestError, match=r"does not contain the required setting \[max_tokens\]"):
        override_task_settings(anthropic.PROVIDER, stored, config, {"max_tokens": None})


def test_override_ignores_stored_keys_this_version_dropped() -> None:
    stored = endpoint(task_settings={"user": "stored-user", "dropped_setting": 1})
    config = load_config(OPENAI, stored)
    merged = override_task_settings(OPENAI, stored, config, {"user": "request-user"})
    assert merged.task(OpenAiTaskSettings) == OpenAiTaskSettings(user="request-user")


# --- load_config (lenient) -----------------------------------------------------------------


def test_load_config_returns_the_typed_structs() -> None:
    config = load_config(OPENAI, STORED)
    assert config == EndpointConfig(
        inference_id="my-endpoint",
        task_type=CHAT,
        service_settings=OpenAiServiceSettings(model_id="gpt-4o-mini"),
        task_settings=OpenAiTaskSettings(user="stored-user", headers={"x-team": "search"}),
        secrets=ApiKeySecrets(api_key="sk-secret-value"),
    )


def test_load_config_drops_keys_this_version_no_longer_knows(caplog: pytest.LogCaptureFixture) -> None:
    stored = endpoint(
        service_settings={
            "model_id": "gpt-4o-mini",
            "dropped_setting": True,
            "rate_limit": {"requests_per_minute": 9},
        },
        task_settings={"user": "u", "old_task_setting": 2},
        secrets={"api_key": "sk-secret-value", "old_secret": "do-not-log-me"},
    )
    with caplog.at_level(logging.INFO, logger="inference_service.endpoints"):
        config = load_config(OPENAI, stored)
    assert config.service_settings == OpenAiServiceSettings(
        model_id="gpt-4o-mini", rate_limit=RateLimit(requests_per_minute=9)
    )
    assert config.task_settings == OpenAiTaskSettings(user="u")
    assert config.secrets == ApiKeySecrets(api_key="sk-secret-value")
    assert [r.getMessage() for r in caplog.records] == [
        "[my-endpoint] ignores stored service_settings ['dropped_setting'] unknown to this version",
        "[my-endpoint] ignores stored task_settings ['old_task_setting'] unknown to this version",
        "[my-endpoint] ignores stored secret_settings ['old_secret'] unknown to this version",
    ]
    assert "do-not-log-me" not in caplog.text


@pytest.mark.parametrize(
    ("stored", "detail"),
    [
        (
            endpoint(service_settings={"url": "http://x"}),
            "[service_settings] Object missing required field `model_id`",
        ),
        (endpoint(secrets={}), "[secret_settings] Object missing required field `api_key`"),
        (
            endpoint(task_settings={"user": 5}),
            "[task_settings] Expected `str | null`, got `int` - at `$.user`",
        ),
    ],
)
def test_load_config_refuses_a_row_it_cannot_read(stored: Endpoint, detail: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        load_config(OPENAI, stored)
    assert caught.value.reason == (
        f"The stored configuration of inference endpoint [my-endpoint] cannot be read by this version "
        f"({detail}); update the endpoint"
    )


def test_load_config_of_an_unsupported_task_type() -> None:
    with pytest.raises(UnsupportedError) as caught:
        load_config(OPENAI, endpoint(task_type=TaskType.RERANK))
    assert caught.value.reason == "The [openai] service does not support task type [rerank]"


def test_load_config_drops_unknown_nested_keys() -> None:
    stored = endpoint(
        service_settings={"model_id": "gpt-4o-mini", "rate_limit": {"requests_per_minute": 9, "burst": 3}}
    )
    config = load_config(OPENAI, stored)
    assert config.service(OpenAiServiceSettings).rate_limit == RateLimit(requests_per_minute=9)


# --- java_map ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ({"foo": "bar", "n": 1}, "{foo=bar, n=1}"),
        ({}, "{}"),
        ([], "[]"),
        ({"a": {"b": [1, True, None, 1.5, "x"]}, "c": False}, "{a={b=[1, true, null, 1.5, x]}, c=false}"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        ("text", "text"),
        ([{"k": "v"}, [2]], "[{k=v}, [2]]"),
    ],
)
def test_java_map(value: Any, rendered: str) -> None:
    assert java_map(value) == rendered
