"""The custom service's settings on PUT, _update and per request: Elasticsearch's messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inference_service.endpoints.configuration import load_config, override_task_settings
from inference_service.endpoints.rules import build_endpoint, merge_update
from inference_service.errors import InferenceServiceError
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.providers.custom import PROVIDER
from inference_service.providers.custom.settings import CustomTaskSettings
from inference_service.providers.registry import builtin_registry

REGISTRY = builtin_registry()
PLACEHOLDER = (
    "Found placeholder [{}] in field [request] after replacement call, please check that all templates have "
    "a corresponding field definition."
)
BODY: dict[str, Any] = {
    "service": "custom",
    "service_settings": {
        "url": "https://embed.example/v1/embed?model=${model}",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "query_parameters": [["region", "eu"]],
        "secret_parameters": {"api_key": "sk-123"},
        "request": '{"texts": ${input}, "kind": ${input_type}, "model": ${model}}',
        "response": {"json_parser": {"text_embeddings": "$.vectors[*]"}},
    },
    "task_settings": {"parameters": {"model": "tiny-embed"}},
}


def put(task_type: TaskType = TaskType.TEXT_EMBEDDING, **changes: Any) -> Endpoint:
    body = copy.deepcopy(BODY)
    for scope, value in changes.items():
        if value is None:
            body["service_settings"].pop(scope, None)
        elif scope == "task_settings":
            body["task_settings"] = value
        else:
            body["service_settings"][scope] = value
    return build_endpoint(REGISTRY, "my-custom", task_type, body)


def refused(task_type: TaskType = TaskType.TEXT_EMBEDDING, **changes: Any) -> InferenceServiceError:
    with pytest.raises(InferenceServiceError) as caught:
        put(task_type, **changes)
    assert caught.value.status == 400
    return caught.value


def test_defaults_are_materialised_and_secrets_kept_apart() -> None:
    endpoint = put(headers={"Authorization": "Bearer ${api_key}", "X-Dropped": None})
    stored = endpoint.service_settings
    assert stored["headers"] == {"Authorization": "Bearer ${api_key}"}
    assert stored["response"] == {
        "json_parser": {"text_embeddings": "$.vectors[*]", "embedding_type": "float"}
    }
    assert stored["input_type"] == {"translation": {}, "default": ""}
    assert stored["batch_size"] == 10
    assert stored["rate_limit"] == {"requests_per_minute": 10_000}
    assert "secret_parameters" not in stored
    assert endpoint.secrets == {"secret_parameters": {"api_key": "sk-123"}}
    assert endpoint.task_settings == {"parameters": {"model": "tiny-embed"}}


def test_input_type_keys_are_case_insensitive_and_stored_lowercase() -> None:
    endpoint = put(input_type={"translation": {"INGEST": "doc", " Search ": "query"}, "default": "doc"})
    assert endpoint.service_settings["input_type"] == {
        "translation": {"ingest": "doc", "search": "query"},
        "default": "doc",
    }


@pytest.mark.parametrize(
    ("translation", "message"),
    [
        (
            {"ingest": "doc", "internal_ingest": "x"},
            "Invalid input type translation for key: [internal_ingest], is not a valid value. Must be one of "
            "[ingest, search, classification, clustering]",
        ),
        (
            {"CLASSIFICATION": 12345},
            "Input type translation value for key [CLASSIFICATION] must be a String that is not null and not "
            "empty, received: [12345], type: [Integer].",
        ),
        (
            {"ingest": ""},
            "Input type translation value for key [ingest] must be a String that is not null and not empty, "
            "received: [], type: [String].",
        ),
        (
            {"ingest": None},
            "Input type translation value for key [ingest] must be a String that is not null and not empty, "
            "received: [null], type: [null].",
        ),
    ],
)
def test_input_type_translation_messages(translation: dict[str, Any], message: str) -> None:
    error = refused(input_type={"translation": translation})
    assert error.reason == f"Validation Failed: 1: {message};"
    assert error.error_type == "validation_exception"


def test_the_put_dry_run_wraps_the_placeholder_message() -> None:
    error = refused(request='{"texts": ${input}, "x": ${nope}}')
    assert error.reason == (
        f"Validation Failed: 1: Failed to validate model configuration: {PLACEHOLDER.format('${nope}')};"
    )


def test_a_parameter_may_not_shadow_a_secret_on_put() -> None:
    error = refused(task_settings={"parameters": {"model": "m", "api_key": "stolen"}})
    assert "[api_key]" in error.reason and "stolen" not in error.reason and "sk-123" not in error.reason


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"url": None}, "[service_settings] does not contain the required setting [url]"),
        ({"request": None}, "[service_settings] does not contain the required setting [request]"),
        ({"response": None}, "[service_settings] does not contain the required setting [response]"),
        (
            {"secret_parameters": None},
            "[secret_settings] does not contain the required setting [secret_parameters]",
        ),
        ({"url": "ftp://embed.example/x"}, "Invalid url [ftp://embed.example/x] received for field [url]"),
        (
            {"response": {"json_parser": {"text_embeddings": "vectors"}}},
            "Path [vectors] must start with a dollar",
        ),
        (
            {"response": {"json_parser": {"token_path": "$.t"}}},
            "Object contains unknown field `token_path`",
        ),
        ({"response": {"json_parser": {}}}, "Object missing required field `text_embeddings`"),
        (
            {"response": {"json_parser": {"text_embeddings": "$.v", "embedding_type": "int4"}}},
            "embedding_type",
        ),
        ({"response": {"json_parser": {"text_embeddings": "$.v"}, "error_parser": {}}}, "unknown field"),
        ({"batch_size": 0}, "Expected `int` >= 1"),
        ({"query_parameters": [["a"]]}, "Expected `array` of length 2"),
        (
            {"secret_parameters": {"api_key": 5}},
            "[secret_settings] Invalid value for setting [secret_parameters]",
        ),
        (
            {"task_settings": {"parameters": {"model": [1]}}},
            "Invalid value [{model=[1]}] for setting [parameters]",
        ),
        ({"task_settings": {"nope": 1}}, "unknown to the [custom] service"),
    ],
)
def test_settings_problems(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in refused(**changes).reason


def test_secret_values_are_never_echoed() -> None:
    assert "sk-9" not in refused(secret_parameters={"api_key": ["sk-9"]}).reason


def test_embedding_settings_only_for_text_embedding() -> None:
    rerank = {"json_parser": {"relevance_score": "$.results[*].relevance_score"}}
    error = refused(TaskType.RERANK, response=rerank, request='{"q": ${query}, "d": ${input}}', dimensions=3)
    assert "unknown to the [custom] service" in error.reason
    endpoint = put(TaskType.RERANK, response=rerank, request='{"q": ${query}, "d": ${input}}')
    assert endpoint.service_settings["response"] == rerank
    assert "chat_completion" in refused(TaskType.CHAT_COMPLETION).reason


def resolved(endpoint: Endpoint) -> tuple[Endpoint, Any]:
    return endpoint, load_config(PROVIDER, endpoint)


def test_request_parameters_merge_over_the_stored_ones() -> None:
    endpoint, config = resolved(put(task_settings={"parameters": {"model": "a", "region": "eu"}}))
    merged = override_task_settings(
        PROVIDER, endpoint, config, {"parameters": {"model": "b", "region": None}}
    )
    assert isinstance(merged.task_settings, CustomTaskSettings)
    assert merged.task_settings.values() == {"model": "b", "region": "eu"}


def test_a_request_parameter_may_not_shadow_a_secret() -> None:
    endpoint, config = resolved(put())
    with pytest.raises(InferenceServiceError) as caught:
        override_task_settings(PROVIDER, endpoint, config, {"parameters": {"api_key": "echo-me"}})
    assert caught.value.status == 400
    assert "[api_key]" in caught.value.reason and "echo-me" not in caught.value.reason


def test_update_merges_parameters_and_replaces_secrets() -> None:
    endpoint = put(task_settings={"parameters": {"model": "a", "extra": 1}})
    updated = merge_update(
        REGISTRY,
        endpoint,
        {
            "service_settings": {"secret_parameters": {"api_key": "sk-new"}, "batch_size": 4},
            "task_settings": {"parameters": {"model": "b"}},
        },
    )
    assert updated.task_settings == {"parameters": {"model": "b", "extra": 1}}
    assert updated.secrets == {"secret_parameters": {"api_key": "sk-new"}}
    assert updated.service_settings["batch_size"] == 4
    with pytest.raises(InferenceServiceError) as caught:
        merge_update(REGISTRY, endpoint, {"service_settings": {"secret_parameters": {"model": "s"}}})
    assert "[model]" in caught.value.reason
