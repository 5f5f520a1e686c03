"""The management API's rules, over raw HTTP on both backends as Elasticsearch defines them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.service import RunningService, migrated_service

OPENAI: dict[str, Any] = {
    "service": "openai",
    "service_settings": {"api_key": "sk-rules", "model_id": "gpt-4o-mini"},
}


@pytest.fixture(scope="module")
def http(service: RunningService) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client


def error(response: httpx.Response, status: int, es_type: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    body = response.json()
    assert body["status"] == status
    assert body["error"]["type"] == es_type
    assert body["error"]["root_cause"][0]["type"] == es_type
    return str(body["error"]["reason"])


def test_put_with_task_type_in_the_body(http: httpx.Client) -> None:
    created = http.put("/_inference/body-typed", json={**OPENAI, "task_type": "completion"})
    assert created.status_code == 200 and created.json()["task_type"] == "completion"
    reason = error(http.put("/_inference/untyped", json=OPENAI), 400, "validation_exception")
    assert reason == "model is missing required setting [task_type]"
    reason = error(
        http.put("/_inference/completion/conflict", json={**OPENAI, "task_type": "chat_completion"}),
        400,
        "status_exception",
    )
    assert reason == (
        "Cannot resolve conflicting task_type parameter in the request URL [completion] "
        "and the request body [chat_completion]"
    )
    assert "Unknown task_type [embeddingz]" in error(
        http.put("/_inference/embeddingz/x", json=OPENAI), 400, "status_exception"
    )


@pytest.mark.parametrize("bad_id", ["Upper", "_leading", "trailing-", "spa ce", "_all", "a/b"])
def test_inference_id_rules(http: httpx.Client, bad_id: str) -> None:
    response = http.put(f"/_inference/completion/{bad_id}", json=OPENAI)
    if bad_id == "a/b":
        assert response.status_code == 400
        return
    reason = error(response, 400, "action_request_validation_exception")
    assert reason == (
        f"Validation Failed: 1: Invalid inference_id; '{bad_id}' can contain lowercase alphanumeric "
        "(a-z and 0-9), hyphens or underscores; must start and end with alphanumeric;"
    )


def test_all_settings_errors_in_one_response(http: httpx.Client) -> None:
    body = {
        "service": "openai",
        "service_settings": {"model_id": "", "url": "ftp://x", "rate_limit": {"requests_per_minute": 0}},
    }
    reason = error(http.put("/_inference/completion/many-errors", json=body), 400, "validation_exception")
    assert reason.startswith("Validation Failed: 1: ")
    assert "[service_settings] Invalid value empty string. [model_id] must be a non-empty string" in reason
    assert "[service_settings] Invalid url [ftp://x] received for field [url]" in reason
    assert "[secret_settings] does not contain the required setting [api_key]" in reason
    assert "requests_per_minute" in reason and "4: " in reason


def test_unknown_settings_services_and_task_types(http: httpx.Client) -> None:
    body = {**OPENAI, "service_settings": {**OPENAI["service_settings"], "foo": "bar"}}
    assert error(http.put("/_inference/completion/unknown-key", json=body), 400, "status_exception") == (
        "Configuration contains settings [{foo=bar}] unknown to the [openai] service"
    )
    assert error(
        http.put("/_inference/completion/unknown-top", json={**OPENAI, "extra": {"a": 1}}),
        400,
        "status_exception",
    ) == ("Configuration contains settings [{extra={a=1}}] unknown to the [openai] service")
    assert error(
        http.put("/_inference/completion/unknown-svc", json={**OPENAI, "service": "nope"}),
        400,
        "status_exception",
    ) == ("Unknown service [nope]")
    assert error(http.put("/_inference/rerank/no-rerank", json=OPENAI), 400, "status_exception") == (
        "The [openai] service does not support task type [rerank]"
    )


def test_defaults_are_materialised(http: httpx.Client) -> None:
    chat = http.put("/_inference/chat_completion/defaults-chat", json=OPENAI).json()
    assert chat["service_settings"]["rate_limit"] == {"requests_per_minute": 500}
    assert "chunking_settings" not in chat and "task_settings" not in chat
    embed = http.put("/_inference/text_embedding/defaults-embed", json=OPENAI).json()
    assert embed["service_settings"] == {
        "model_id": "gpt-4o-mini",
        "rate_limit": {"requests_per_minute": 3000},
    }
    assert embed["chunking_settings"] == {
        "strategy": "sentence",
        "max_chunk_size": 250,
        "sentence_overlap": 1,
    }
    internal = {**OPENAI, "service_settings": {**OPENAI["service_settings"], "dimensions_set_by_user": True}}
    assert "dimensions_set_by_user" in error(
        http.put("/_inference/text_embedding/internal", json=internal), 400, "status_exception"
    )
    custom = {
        **OPENAI,
        "service_settings": {**OPENAI["service_settings"], "rate_limit": {"requests_per_minute": 9}},
    }
    assert http.put("/_inference/completion/custom-rate", json=custom).json()["service_settings"][
        "rate_limit"
    ] == {"requests_per_minute": 9}
    chunked = {**OPENAI, "chunking_settings": {"strategy": "word", "max_chunk_size": 100, "overlap": 10}}
    assert "not supported for task type [completion]" in error(
        http.put("/_inference/completion/chunked", json=chunked), 400, "validation_exception"
    )


def test_get_variants_and_task_type_mismatch(http: httpx.Client) -> None:
    http.put("/_inference/completion/get-a", json=OPENAI)
    http.put("/_inference/chat_completion/get-b", json=OPENAI)
    everything = {e["inference_id"] for e in http.get("/_inference").json()["endpoints"]}
    assert {"get-a", "get-b"} <= everything
    assert {e["inference_id"] for e in http.get("/_inference/_all").json()["endpoints"]} == everything
    assert {e["inference_id"] for e in http.get("/_inference/*").json()["endpoints"]} == everything
    completions = http.get("/_inference/completion/_all").json()["endpoints"]
    assert {e["task_type"] for e in completions} == {"completion"} and "get-a" in {
        e["inference_id"] for e in completions
    }
    assert http.get("/_inference/COMPLETION/get-a").status_code == 200  # task type is case-insensitive
    mismatch = (
        "Requested task type [chat_completion] does not match the inference endpoint's task type [completion]"
    )
    assert error(http.get("/_inference/chat_completion/get-a"), 400, "status_exception") == mismatch
    assert error(http.delete("/_inference/chat_completion/get-a"), 400, "status_exception") == mismatch
    assert error(http.get("/_inference/nothing-here"), 404, "resource_not_found_exception") == (
        "Inference endpoint not found [nothing-here]"
    )


def test_delete_dry_run_and_force(http: httpx.Client) -> None:
    http.put("/_inference/completion/to-delete", json=OPENAI)
    assert http.delete("/_inference/to-delete?dry_run=true").json() == {
        "acknowledged": False,
        "pipelines": [],
        "indexes": [],
    }
    assert http.get("/_inference/to-delete").status_code == 200
    assert http.delete("/_inference/to-delete?force=true").json()["acknowledged"] is True
    assert http.get("/_inference/to-delete").status_code == 404
    assert "only [true] or [false]" in error(
        http.delete("/_inference/x?dry_run=maybe"), 400, "illegal_argument_exception"
    )


def test_update_rules(http: httpx.Client) -> None:
    http.put("/_inference/chat_completion/upd", json={**OPENAI, "task_settings": {"user": "a"}})
    updated = http.put(
        "/_inference/upd/_update",
        json={"service_settings": {"api_key": "sk-new"}, "task_settings": {"headers": {"x": "1"}}},
    )
    assert updated.status_code == 200
    assert updated.json()["task_settings"] == {"user": "a", "headers": {"x": "1"}}
    assert "sk-new" not in updated.text
    assert error(
        http.put("/_inference/upd/_update", json={"service": "anthropic"}), 400, "status_exception"
    ) == (
        "Request contained fields which cannot be updated, remove these fields and try again "
        "[{service=anthropic}]"
    )
    assert "Request body is empty" in error(
        http.put("/_inference/upd/_update", json={}), 400, "parse_exception"
    )
    assert "unknown to the [openai] service" in error(
        http.put("/_inference/upd/_update", json={"task_settings": {"bogus": 1}}), 400, "status_exception"
    )
    assert error(
        http.put("/_inference/completion/upd/_update", json={"task_settings": {"user": "b"}}),
        400,
        "status_exception",
    ).startswith("Requested task type [completion]")
    assert http.put("/_inference/nope-upd/_update", json={"task_settings": {"user": "b"}}).status_code == 404


def test_reserved_preconfigured_ids(http: httpx.Client) -> None:
    for response in (
        http.put("/_inference/completion/.mine", json=OPENAI),
        http.put("/_inference/.mine/_update", json={"task_settings": {}}),
        http.delete("/_inference/.mine"),
    ):
        assert "ids starting with [.] are reserved" in error(response, 400, "status_exception")


def test_media_types_query_parameters_and_methods(http: httpx.Client) -> None:
    compat9 = "application/vnd.elasticsearch+json; compatible-with=9"
    response = http.put(
        "/_inference/completion/compat", json=OPENAI, headers={"content-type": compat9, "accept": compat9}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.elasticsearch+json;compatible-with=9"
    compat8 = "application/vnd.elasticsearch+json; compatible-with=8"
    assert http.get("/_inference/compat", headers={"accept": compat8}).headers["content-type"].endswith("=8")
    assert "compatible-with version [7]" in error(
        http.get(
            "/_inference/compat", headers={"accept": "application/vnd.elasticsearch+json; compatible-with=7"}
        ),
        400,
        "media_type_header_exception",
    )
    assert "Content-Type header [text/plain]" in error(
        http.put("/_inference/completion/plain", content=b"{}", headers={"content-type": "text/plain"}),
        406,
        "media_type_header_exception",
    )
    assert error(http.get("/_inference/compat?foo=1&bar=2"), 400, "illegal_argument_exception") == (
        "request [/_inference/compat] contains unrecognized parameters: [foo], [bar]"
    )
    assert "allowed: [GET]" in error(http.post("/_inference"), 405, "status_exception")
    assert error(http.patch("/_inference/compat"), 405, "status_exception") == (
        "Incorrect HTTP method for uri [/_inference/compat] and method [PATCH], "
        "allowed: [DELETE, GET, POST, PUT]"
    )
    # an action segment is never read as an endpoint id, whatever the method
    for path in ("/_inference/compat/_stream", "/_inference/completion/compat/_stream"):
        assert "allowed: [POST]" in error(http.put(path, json=OPENAI), 405, "status_exception")
    assert "allowed: [PUT]" in error(
        http.post("/_inference/compat/_update", json={}), 405, "status_exception"
    )
    assert "no handler found for uri [/_nope]" in error(http.get("/_nope"), 400, "illegal_argument_exception")
    assert "no handler found" in error(http.get("/_inference/a/b/c"), 400, "illegal_argument_exception")
    pretty = http.get("/_inference/compat?pretty")
    assert pretty.text.startswith('{\n  "endpoints"')
    filtered = http.get("/_inference/compat?filter_path=endpoints.inference_id").json()
    assert filtered == {"endpoints": [{"inference_id": "compat"}]}


def test_bad_bodies_are_4xx_and_write_nothing(http: httpx.Client) -> None:
    cases: list[tuple[Any, int, str]] = [
        (b"", 400, "parse_exception"),
        (b"{not json", 400, "x_content_parse_exception"),
        (b"[1, 2]", 400, "x_content_parse_exception"),
        (b'{"service": "op\xff"}', 400, "x_content_parse_exception"),
        (b'{"service": 5, "service_settings": {}}', 400, "status_exception"),
        (b'{"service": "openai", "service_settings": "x"}', 400, "status_exception"),
        (
            b'{"service": "openai", "service_settings": {"api_key": 5, "model_id": ["m"]}}',
            400,
            "validation_exception",
        ),
    ]
    for body, status, es_type in cases:
        response = http.put(
            "/_inference/completion/bad-body", content=body, headers={"content-type": "application/json"}
        )
        reason = error(response, status, es_type)
        assert "Traceback" not in reason
    assert http.get("/_inference/bad-body").status_code == 404


@pytest.mark.parametrize("depth", [100, 5000])
def test_deeply_nested_bodies_are_a_400(http: httpx.Client, depth: int) -> None:
    """Thousands of nested arrays or objects used to be an uncaught RecursionError (a 500)."""
    nested_arrays = b"[" * depth + b"]" * depth
    nested_objects = b'{"a":' * depth + b"1" + b"}" * depth
    assert http.put(f"/_inference/completion/nested-{depth}", json=OPENAI).status_code == 200
    for inner in (nested_arrays, nested_objects):
        put = b'{"service": "openai", "service_settings": {"api_key": "k", "model_id": ' + inner + b"}}"
        update = b'{"task_settings": {"user": ' + inner + b"}}"
        for method, path, body in (
            ("PUT", "/_inference/completion/nested-new", put),
            ("PUT", f"/_inference/nested-{depth}/_update", update),
        ):
            response = http.request(method, path, content=body, headers={"content-type": "application/json"})
            assert "nest" in error(response, 400, "x_content_parse_exception")
    assert http.get("/_inference/nested-new").status_code == 404


def test_oversize_body_is_413(tmp_path: Path) -> None:
    with migrated_service(tmp_path, max_body_bytes=2048) as small:
        big = {**OPENAI, "task_settings": {"user": "x" * 5000}}
        response = httpx.put(f"{small.url}/_inference/completion/too-big", json=big)
        reason = error(response, 413, "content_too_long_exception")
        assert "[2048] bytes" in reason
        assert httpx.get(f"{small.url}/_inference/too-big").status_code == 404
