"""json_parser paths: nested lists kept as Elasticsearch's MapPathExtractor keeps them."""

from __future__ import annotations

from typing import Any

import pytest

from inference_service.providers.custom.paths import PathError, check_path, compile_path, extract

NESTED = {
    "result": [
        {"key": [{"a": 1.1}, {"a": 2.2}]},
        {"key": []},
        {"key": [{"a": 3.3}]},
    ]
}


def run(path: str, document: Any) -> Any:
    return extract(compile_path(path), document)


def test_each_wildcard_keeps_its_own_list_level() -> None:
    assert run("$.result[*].key[*].a", NESTED) == [[1.1, 2.2], [], [3.3]]


def test_one_wildcard_gives_one_entry_per_item() -> None:
    openai = {"data": [{"embedding": [1, 2]}, {"embedding": [3, 4]}]}
    assert run("$.data[*].embedding", openai) == [[1, 2], [3, 4]]
    assert run("$.vectors[*]", {"vectors": [[0.5], [0.25]]}) == [[0.5], [0.25]]


def test_paths_without_wildcards_select_one_value() -> None:
    assert run("$.output.text", {"output": {"text": "hi"}}) == "hi"
    assert run("$.result[0].key[*].a", NESTED) == [1.1, 2.2]
    assert run("$['odd key'].v", {"odd key": {"v": 1}}) == 1
    document = {"x": 1}
    assert run("$", document) is document


def test_multi_node_selectors_other_than_the_wildcard_make_a_level_too() -> None:
    assert run("$.items[0:2].v", {"items": [{"v": 1}, {"v": 2}, {"v": 3}]}) == [1, 2]
    assert run(
        "$.items[?@.keep == true].v", {"items": [{"v": 1, "keep": True}, {"v": 2, "keep": False}]}
    ) == [1]
    assert run("$.m[*]", {"m": {"a": 1, "b": 2}}) == [1, 2]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("data[*].embedding", "Path [data[*].embedding] must start with a dollar sign ($)"),
        ("  vectors", "Path [vectors] must start with a dollar sign ($)"),
        ("$.data[*]]", "Invalid path [$.data[*]]]: unexpected token ']'"),
        ("$.a | $.b", "Invalid path [$.a | $.b]"),
    ],
)
def test_paths_that_do_not_compile(path: str, message: str) -> None:
    problem = check_path(path)
    assert problem is not None and problem.startswith(message)
    with pytest.raises(PathError):
        compile_path(path)
    assert check_path("$.data[*].embedding") is None


@pytest.mark.parametrize(
    ("path", "document", "message"),
    [
        (
            "$.data[*].embedding",
            {"vectors": []},
            "Unable to find field ['data'] of path [$.data[*].embedding]",
        ),
        (
            "$.data[*].embedding",
            {"data": [{"embedding": [1]}, {"other": 2}]},
            "Unable to find field ['embedding']",
        ),
        (
            "$.data[*].v",
            {"data": "text"},
            "Unable to apply [*] of path [$.data[*].v]: found a value of type [string]",
        ),
        ("$.a.b", {"a": 3}, "Unable to apply ['b'] of path [$.a.b]: found a value of type [number]"),
    ],
)
def test_documents_that_do_not_fit_the_path(path: str, document: Any, message: str) -> None:
    with pytest.raises(PathError) as caught:
        run(path, document)
    assert str(caught.value).startswith(message)


def test_a_string_value_is_never_read_as_json() -> None:
    with pytest.raises(PathError):
        run("$.a.b", {"a": '{"b": 1}'})


def test_compiled_paths_are_cached() -> None:
    assert compile_path("$.cached[*].x") is compile_path("$.cached[*].x")
