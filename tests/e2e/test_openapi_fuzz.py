"""Schemathesis over every operation of ``GET /openapi.json``, against the real service.

The service runs under hypercorn on 127.0.0.1 with endpoints of each task type pointing at a
loopback fake provider; the document's examples name them, and half the generated inference
cases are pointed at them (:func:`retarget`), so generated bodies reach the provider call. Its
name resolver knows no name at all: an endpoint the fuzzer creates with a provider's public
default URL fails with a 502 and nothing is ever looked up. Auth is off there (a key the fuzzer
creates must not lock the later cases out); a second service requires a key and gets generated
credentials. Each operation has a fixed seed and a bounded number of cases, valid and invalid,
and every answer is checked: no 5xx but a provider failure, a documented status, the
documented content type, a body (and each stream event) matching its schema.

The bugs found while building this (each with a regression test of its own in
``test_openapi.py`` and the unit tests): a non-ASCII ``Authorization`` header, an API key
``expiration`` past the calendar and a control character in a header setting were 500s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inference_service.api.openapi.document import build_document
from inference_service.app import FACES
from inference_service.providers.registry import builtin_registry
from tests.fakes import cohere
from tests.fakes import openai as fake_openai
from tests.fakes import openai_embeddings as fake_embeddings
from tests.fakes.server import FakeProvider, Reply
from tests.support.resolver import MapResolver
from tests.support.service import RunningService, migrated_service

SEED = int(os.environ.get("OPENAPI_FUZZ_SEED", "14"))
MAX_EXAMPLES = int(os.environ.get("OPENAPI_FUZZ_EXAMPLES", "30"))
"""Cases per operation: CI's bound; set the variables for a longer hunt with other seeds."""
UPSTREAM_STATUSES = frozenset({502, 504})
"""The provider failed: documented, and what an endpoint the fuzzer created answers (its
provider's default public host does not resolve here, or its URL is a closed loopback port)."""
SEEDED = frozenset(
    {"fuzz-chat", "fuzz-completion", "fuzz-embed", "fuzz-updated", "fuzz-deleted", "fuzz-rerank"}
)


def _seeded_target(case: schemathesis.Case[Any]) -> bool:
    """Whether ``case`` calls one of the seeded endpoints, whose fake provider never fails."""
    named = {(case.path_parameters or {}).get("inference_id")}
    if isinstance(case.body, dict):
        named.add(case.body.get("model"))
    return bool(named & SEEDED)


@schemathesis.check
def no_internal_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """No 5xx but a provider failure (502/504), and none of those from a seeded endpoint:
    schemathesis' own ``not_a_server_error`` would count the documented 502 of an endpoint the
    fuzzer created itself."""
    status = response.status_code
    # the fake's canned answer cannot follow a generated strict response_format: the service
    # rightly answers 502 response_format_violation even for a seeded endpoint
    unexpected = status not in UPSTREAM_STATUSES or (
        _seeded_target(case) and "response_format_violation" not in response.text
    )
    if status >= 500 and unexpected:
        raise AssertionError(f"server error {status}: {response.text[:500]}")
    return None


CHECKS = [no_internal_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def checks_for(case: schemathesis.Case[Any]) -> list[schemathesis.CheckFunction]:
    """``filter_path`` keeps only part of an answer by design (documented): such a case is
    checked for everything but its body's schema."""
    if "filter_path" in (case.query or {}):
        return [c for c in CHECKS if c is not response_schema_conformance]
    return CHECKS


def answer(body: Any) -> Reply:
    """The fake provider's answer to any request the seeded endpoints make."""
    if not isinstance(body, dict):
        return Reply.json(400, {"error": {"message": "not an object", "type": "invalid_request_error"}})
    if "messages" in body:
        if body.get("stream"):
            return fake_openai.stream_reply(["Hello", " there"], finish_reason="stop")
        return fake_openai.completion_reply("Hello there")
    if "documents" in body:
        documents = [str(d) for d in body["documents"]]
        top = body.get("top_n") or len(documents)
        ranked = [(i, 1.0 / (i + 1)) for i in range(len(documents))][:top]
        return cohere.rerank_reply(ranked, documents if body.get("return_documents") else None)
    inputs = body.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    return fake_embeddings.reply([[0.5, -0.25, 0.125]] * count)


def seed(svc: RunningService, upstream: FakeProvider) -> None:
    """The endpoints the document's examples name (``api/openapi/operations.py``)."""
    chat = {"api_key": "sk-fuzz", "model_id": fake_openai.MODEL, "url": upstream.url + "/v1/chat/completions"}
    embed = {
        "api_key": "sk-fuzz",
        "model_id": fake_embeddings.MODEL,
        "url": upstream.url + "/v1/embeddings",
        "dimensions": 3,
    }
    rerank = {"api_key": "co-fuzz", "model_id": cohere.RERANK_MODEL, "url": upstream.url + "/v2/rerank"}
    endpoints = [
        ("chat_completion", "fuzz-chat", "openai", chat),
        ("completion", "fuzz-completion", "openai", chat),
        ("text_embedding", "fuzz-embed", "openai", embed),
        ("text_embedding", "fuzz-updated", "openai", embed),
        ("text_embedding", "fuzz-deleted", "openai", embed),
        ("rerank", "fuzz-rerank", "cohere", rerank),
    ]
    for task_type, inference_id, service, service_settings in endpoints:
        body = {"service": service, "service_settings": service_settings}
        response = httpx.put(f"{svc.url}/_inference/{task_type}/{inference_id}", json=body)
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, upstream: FakeProvider) -> Iterator[RunningService]:
    # auth off: a key the fuzzer creates must not close the service to the cases that follow
    upstream.respond_by(answer)
    data_dir = tmp_path_factory.mktemp("fuzz")
    with migrated_service(data_dir, MapResolver(), auth="off", catalog_refresh_interval=3600) as running:
        seed(running, upstream)
        yield running
    upstream.respond_by(None)


def document() -> dict[str, Any]:
    """The document the service serves, built here without one: the operations must be known
    when pytest collects (schemathesis' lazy ``from_fixture`` schemas need a pytest < 9.2);
    :func:`test_the_service_serves_the_fuzzed_document` checks it is the served one."""
    routes = [route for face in FACES for route in face.routes]
    return build_document(routes, builtin_registry())


def fuzz_config(*, security: bool, examples: int) -> schemathesis.Config:
    """Valid and invalid cases, deterministic; ``security``: the ``Authorization`` header is
    generated too (otherwise left out, so cases reach the handlers)."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": examples,
                "deterministic": True,
                "with-security-parameters": security,
            },
            # the coverage phase is off: its case builder crashes on this document (schemathesis
            # 4.32: `_iterencode` TypeError while collecting) and it alone would double the run
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
        }
    )


schema = schemathesis.openapi.from_dict(document(), config=fuzz_config(security=False, examples=MAX_EXAMPLES))
guarded_schema = schemathesis.openapi.from_dict(
    document(), config=fuzz_config(security=True, examples=max(MAX_EXAMPLES // 6, 1))
)
"""The same operations against a service that requires a key, with generated credentials."""


def test_the_service_serves_the_fuzzed_document(fuzzed: RunningService) -> None:
    response = httpx.get(fuzzed.url + "/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(document()))


BY_TASK = {
    "chat_completion": "fuzz-chat",
    "completion": "fuzz-completion",
    "text_embedding": "fuzz-embed",
    "rerank": "fuzz-rerank",
}
BY_PATH = {
    "/_inference/{inference_id}": "fuzz-embed",
    "/_inference/{inference_id}/_stream": "fuzz-completion",
    "/v1/chat/completions": "fuzz-chat",
    "/v1/completions": "fuzz-completion",
    "/v1/embeddings": "fuzz-embed",
    "/v1/rerank": "fuzz-rerank",
}


def retarget(case: schemathesis.Case[Any]) -> None:
    """Point half the inference cases at a seeded endpoint, so generated bodies reach the
    provider call and its answer, not only the "no such endpoint" 404. Which half: those whose
    generated id has an even length (deterministic, like the rest of the run); the others keep
    their id. Only POST (inference): no case deletes or rewrites a seeded endpoint."""
    if case.method != "POST" or case.operation.path.startswith("/_security"):
        return
    params = case.path_parameters or {}
    if "inference_id" in params:
        target = BY_TASK.get(params.get("task_type", ""), BY_PATH.get(case.operation.path))
        if target is not None and len(str(params["inference_id"])) % 2 == 0:
            params["inference_id"] = target
    elif isinstance(case.body, dict):
        model = case.body.get("model")
        if isinstance(model, str) and len(model) % 2 == 0:
            case.body["model"] = BY_PATH[case.operation.path]


@schema.parametrize()
@settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any], fuzzed: RunningService) -> None:
    retarget(case)
    case.call_and_validate(base_url=fuzzed.url, checks=checks_for(case), timeout=10)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """Authentication required (no key exists): every secured operation parses the header."""
    with migrated_service(tmp_path_factory.mktemp("guarded"), MapResolver(), auth="required") as running:
        yield running


@guarded_schema.parametrize()
@settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_refuses_bad_credentials_as_documented(
    case: schemathesis.Case[Any], guarded: RunningService
) -> None:
    case.call_and_validate(base_url=guarded.url, checks=checks_for(case), timeout=10)


def test_the_examples_reach_the_provider(fuzzed: RunningService, upstream: FakeProvider) -> None:
    """Every inference example of the document answers 200 on the seeded endpoints, through a
    provider call: the fuzz run starts from real code paths (independent of the order in which
    the fuzz cases run, or of which xdist worker runs them)."""
    for path, item in document()["paths"].items():
        post = item.get("post")
        if post is None or path.startswith("/_security"):
            continue
        url = path
        for param in post["parameters"]:
            if param["in"] == "path":
                url = url.replace("{" + param["name"] + "}", param["example"])
        for example in post["requestBody"]["content"]["application/json"]["examples"].values():
            response = httpx.post(fuzzed.url + url, json=example["value"], timeout=10)
            assert response.status_code == 200, (url, example, response.text)
    paths = {request.path for request in upstream.requests}
    assert {"/v1/chat/completions", "/v1/embeddings", "/v2/rerank"} <= paths
