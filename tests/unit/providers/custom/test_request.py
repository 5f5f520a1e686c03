"""Template substitution of the custom service, as Elasticsearch's CustomRequest does it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest

from inference_service.model.embedding import InputType
from inference_service.model.rerank import RerankRequest
from inference_service.model.task_type import TaskType
from inference_service.providers.custom.request import (
    TemplateError,
    build_request,
    completion_builtins,
    dry_run,
    embedding_builtins,
    parameters,
    rerank_builtins,
    shadowed_secrets,
    substitute,
)
from inference_service.providers.custom.settings import (
    CustomRerankSettings,
    CustomSettings,
    CustomTextEmbeddingSettings,
    InputTypeTranslation,
)

PLACEHOLDER = (
    "Found placeholder [{}] in field [{}] after replacement call, please check that all templates have a "
    "corresponding field definition."
)


def embedding_settings(**changes: Any) -> CustomTextEmbeddingSettings:
    settings = {
        "url": "https://embed.example/v1/embed?model=${model}",
        "headers": {"Authorization": "Bearer ${api_key}"},
        "query_parameters": [["region", "eu"], ["tag", "a"], ["tag", "b"]],
        "request": '{"texts": ${input}, "kind": ${input_type}, "model": ${model}, "n": ${n}}',
        "response": {"json_parser": {"text_embeddings": "$.vectors[*]"}},
        "input_type": {"translation": {"ingest": "doc", "search": "query"}, "default": "other"},
        **changes,
    }
    return msgspec.convert(settings, CustomTextEmbeddingSettings)


SECRETS = {"api_key": "sk-123"}
TASK: dict[str, str | int | float | bool] = {"model": "tiny-embed", "n": 3}


def build(settings: CustomSettings, builtins: dict[str, str], task: Any = None) -> Any:
    return build_request(settings, parameters(SECRETS, TASK if task is None else task, builtins))


def test_the_reference_example() -> None:
    settings = embedding_settings()
    built = build(settings, embedding_builtins(["a", 'say "hi"'], InputType.SEARCH, settings.input_type))
    parts = urlsplit(built.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "embed.example", "/v1/embed")
    assert parse_qsl(parts.query) == [("model", "tiny-embed"), ("region", "eu"), ("tag", "a"), ("tag", "b")]
    assert built.headers == {"Content-Type": "application/json", "Authorization": "Bearer sk-123"}
    assert json.loads(built.body) == {
        "texts": ["a", 'say "hi"'],
        "kind": "query",
        "model": "tiny-embed",
        "n": 3,
    }


def test_strings_are_raw_in_the_url_and_json_in_the_body() -> None:
    settings = embedding_settings(
        request="${model} ${n} ${flag} ${ratio} ${api_key}", url="http://h/${model}"
    )
    task = {"model": "m 1", "n": 3, "flag": True, "ratio": 0.5}
    built = build(settings, {}, task)
    assert built.url.startswith("http://h/m 1?")
    assert built.body == b'"m 1" 3 true 0.5 "sk-123"'


def test_only_string_parameters_reach_the_url_headers_and_query() -> None:
    for changes, field in (
        ({"url": "http://h/?n=${n}"}, "url"),
        ({"headers": {"X-N": "${n}"}}, "header.X-N"),
        ({"query_parameters": [["n", "${n}"]]}, "query parameters: [n]"),
    ):
        with pytest.raises(TemplateError) as caught:
            build(embedding_settings(**changes), {})
        assert str(caught.value) == PLACEHOLDER.format("${n}", field)


def test_builtins_win_over_parameters_and_are_body_only() -> None:
    settings = embedding_settings(request="${input}", url="http://h/")
    built = build(settings, {"input": '["x"]'}, {"input": "shadowed"})
    assert built.body == b'["x"]'
    with pytest.raises(TemplateError) as caught:
        build(embedding_settings(url="http://h/${input_type}"), {"input_type": '"doc"'}, {})
    assert str(caught.value) == PLACEHOLDER.format("${input_type}", "url")


def test_a_placeholder_nothing_fills_is_refused_with_elasticsearchs_message() -> None:
    with pytest.raises(TemplateError) as caught:
        substitute('{"a": ${a}, "b": ${b}, "c": ${}}', {"a": "1"}, "request")
    assert str(caught.value) == PLACEHOLDER.format("${b}", "request")


def test_text_that_looks_like_a_placeholder_is_sent_as_it_is() -> None:
    settings = embedding_settings(request="${input}", url="http://h/")
    built = build(settings, embedding_builtins(["costs ${price}"], None, None))
    assert json.loads(built.body) == ["costs ${price}"]


def test_headers_default_content_type_unless_set_and_reject_bad_values() -> None:
    settings = embedding_settings(headers={"content-type": "application/x-ndjson", "X-Key": "${api_key}"})
    built = build(settings, embedding_builtins(["a"], None, None))
    assert built.headers == {"content-type": "application/x-ndjson", "X-Key": "sk-123"}
    with pytest.raises(TemplateError, match=r"Header \[X-Key\] contains a line break"):
        build(embedding_settings(headers={"X-Key": "${model}"}), {}, {"model": "a\r\nInjected: 1"})
    with pytest.raises(TemplateError, match=r"Header name \[Bad Name\] is not a valid"):
        build(embedding_settings(headers={"Bad Name": "x"}), {})


def test_query_parameters_are_appended_encoded_in_order() -> None:
    settings = embedding_settings(
        url="http://h/p?fixed=1", query_parameters=[["q", "a b&c"], ["q", "${model}"]]
    )
    built = build(settings, embedding_builtins(["a"], None, None))
    assert built.url == "http://h/p?fixed=1&q=a+b%26c&q=tiny-embed"


def test_the_url_must_stay_http_once_filled() -> None:
    settings = embedding_settings(url="http://${host}")
    with pytest.raises(TemplateError) as caught:
        build(settings, {}, {"host": "/relative"})
    assert str(caught.value) == (
        "The url [http://${host}] does not give an absolute http or https URL once its placeholders are "
        "replaced"
    )


@pytest.mark.parametrize(
    ("input_type", "expected"),
    [
        (InputType.INGEST, '"doc"'),
        (InputType.INTERNAL_INGEST, '"doc"'),
        (InputType.SEARCH, '"query"'),
        (InputType.INTERNAL_SEARCH, '"query"'),
        (InputType.CLASSIFICATION, '"other"'),
        (None, '"other"'),
    ],
)
def test_input_type_translation(input_type: InputType | None, expected: str) -> None:
    translation = msgspec.convert(
        {"translation": {"INGEST": "doc", "Search": "query"}, "default": "other"}, InputTypeTranslation
    )
    assert embedding_builtins(["t"], input_type, translation) == {"input": '["t"]', "input_type": expected}
    assert embedding_builtins(["t"], input_type, None)["input_type"] == '""'


def test_rerank_and_completion_builtins() -> None:
    assert rerank_builtins(RerankRequest(query='who "is"', input=["a", "b"])) == {
        "input": '["a","b"]',
        "query": '"who \\"is\\""',
    }
    full = rerank_builtins(RerankRequest(query="q", input=["a"], top_n=2, return_documents=False))
    assert (full["top_n"], full["return_documents"]) == ("2", "false")
    assert completion_builtins('say "x"') == {"input": '"say \\"x\\""'}


def test_task_parameters_may_not_shadow_secret_parameters() -> None:
    problem = shadowed_secrets({"api_key": "sk-secret", "b": "s"}, {"b": 1, "api_key": "x", "ok": 2})
    assert problem == (
        "[task_settings] parameters [api_key, b] have the names of secret parameters; a task parameter may "
        "not replace a secret parameter"
    )
    assert "sk-secret" not in problem
    assert shadowed_secrets(SECRETS, TASK) is None


def rerank_settings(request: str) -> CustomRerankSettings:
    return msgspec.convert(
        {
            "url": "http://h/rerank",
            "request": request,
            "response": {"json_parser": {"relevance_score": "$.results[*].relevance_score"}},
        },
        CustomRerankSettings,
    )


def test_the_dry_run_uses_the_validation_calls_inputs() -> None:
    assert dry_run(TaskType.TEXT_EMBEDDING, embedding_settings(), SECRETS, TASK) == []
    assert dry_run(TaskType.RERANK, rerank_settings('{"q": ${query}, "d": ${input}}'), {}, {}) == []
    assert dry_run(TaskType.RERANK, rerank_settings('{"n": ${top_n}}'), {}, {}) == [
        "Failed to validate model configuration: " + PLACEHOLDER.format("${top_n}", "request")
    ]
    assert dry_run(TaskType.RERANK, rerank_settings('{"n": ${top_n}}'), {}, {"top_n": 3}) == []
    assert dry_run(TaskType.RERANK, rerank_settings("${input_type}"), {}, {}) == [
        "Failed to validate model configuration: " + PLACEHOLDER.format("${input_type}", "request")
    ]
    assert dry_run(TaskType.TEXT_EMBEDDING, embedding_settings(), SECRETS, {**TASK, "api_key": "x"}) == [
        "[task_settings] parameters [api_key] have the names of secret parameters; a task parameter may not "
        "replace a secret parameter"
    ]
