"""Metrics, request ids and the request log end to end: the service under hypercorn, a fake
OpenAI server, httpx and the official Elasticsearch client; GET /metrics parsed with
prometheus_client's own text parser."""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider
from tests.support.service import RunningService, migrated_service

SECRET = "sk-observability-secret-4242"
PROMPT = "my very private question about the moon"
_ids = itertools.count()

pytestmark = pytest.mark.usefixtures("fresh_upstream")


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with migrated_service(tmp_path_factory.mktemp("observe"), upstream_max_retries=0) as running:
        yield running


def put_chat(svc: RunningService, upstream: FakeProvider) -> str:
    inference_id = f"observed-{next(_ids)}"
    settings = {"api_key": SECRET, "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    body = {"service": "openai", "service_settings": settings}
    assert httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}", json=body).status_code == 200
    return inference_id


def samples(svc: RunningService) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{svc.url}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def chat(svc: RunningService, inference_id: str, **headers: str) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": PROMPT}]}
    return httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream", json=body, headers=headers, timeout=10
    )


def test_a_stream_is_counted_timed_and_its_tokens_measured(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put_chat(svc, upstream)
    upstream.enqueue(fake_openai.stream_reply(["Hel", "lo", "!"], usage=fake_openai.usage(7, 3)))
    assert chat(svc, inference_id).status_code == 200
    found = samples(svc)
    series = {
        "face": "elasticsearch",
        "task_type": "chat_completion",
        "endpoint": inference_id,
        "service": "openai",
    }
    assert value(found, "inference_service_requests_total", **series, status="200") == 1
    assert value(found, "gen_ai_server_time_to_first_token_seconds_count", **series) == 1
    assert value(found, "gen_ai_server_request_duration_seconds_count", **series) == 1
    assert value(found, "gen_ai_server_time_per_output_token_seconds_count", **series) == 1
    assert value(found, "gen_ai_client_token_usage_sum", **series, gen_ai_token_type="input") == 7
    assert value(found, "gen_ai_client_token_usage_sum", **series, gen_ai_token_type="output") == 3
    assert value(found, "inference_service_upstream_attempts_total", **series) == 1
    assert value(found, "inference_service_gateway_overhead_seconds_count", **series) == 1
    assert 0 < value(found, "inference_service_gateway_overhead_seconds_sum", **series) < 1


def test_errors_are_counted_by_type_and_unknown_ids_are_not_labels(
    svc: RunningService, upstream: FakeProvider
) -> None:
    inference_id = put_chat(svc, upstream)
    upstream.enqueue(fake_openai.error_reply(401, "Incorrect API key provided", "invalid_request_error"))
    assert chat(svc, inference_id).status_code == 401
    assert chat(svc, "no-such-endpoint-xyz").status_code == 404
    found = samples(svc)
    series = {
        "face": "elasticsearch",
        "task_type": "chat_completion",
        "endpoint": inference_id,
        "service": "openai",
    }
    assert value(found, "inference_service_errors_total", **series, error_type="UpstreamError") == 1
    assert not any("no-such-endpoint-xyz" in str(labels) for _, labels in found)
    unknown = {"face": "elasticsearch", "task_type": "", "endpoint": "", "service": ""}
    assert value(found, "inference_service_errors_total", **unknown, error_type="EndpointNotFoundError") >= 1


def test_request_ids_are_kept_or_made_and_the_opaque_id_echoed(svc: RunningService) -> None:
    made = httpx.get(f"{svc.url}/")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert "x-opaque-id" not in made.headers
    kept = httpx.get(f"{svc.url}/", headers={"X-Request-Id": "trace-123", "X-Opaque-Id": "kibana-9"})
    assert kept.headers["x-request-id"] == "trace-123" and kept.headers["x-opaque-id"] == "kibana-9"
    too_long = httpx.get(f"{svc.url}/", headers={"X-Request-Id": "x" * 500})
    assert too_long.headers["x-request-id"] != "x" * 500
    es = Elasticsearch(svc.url, opaque_id="from-the-client")
    assert es.info().meta.headers["x-opaque-id"] == "from-the-client"


def test_one_log_line_per_request_without_secrets_or_contents(
    svc: RunningService, upstream: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    inference_id = put_chat(svc, upstream)
    upstream.enqueue(fake_openai.stream_reply(["The moon", " is far"], usage=fake_openai.usage(5, 2)))
    with caplog.at_level(logging.INFO, "inference_service"):
        response = chat(svc, inference_id, **{"X-Opaque-Id": "op-1"})
        assert response.status_code == 200
        # the line is written once the last byte is out: a moment after the client has it
        deadline = time.monotonic() + 5
        while True:
            lines = [r for r in caplog.records if r.name == "inference_service.requests"]
            mine = [
                r
                for r in lines
                if getattr(r, "request", {}).get("request_id") == response.headers["x-request-id"]
            ]
            if mine or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    assert len(mine) == 1
    fields: dict[str, Any] = vars(mine[0])["request"]
    assert (
        fields["endpoint"] == inference_id and fields["status"] == 200 and fields["face"] == "elasticsearch"
    )
    assert (fields["input_tokens"], fields["output_tokens"], fields["upstream_attempts"]) == (5, 2, 1)
    assert (
        fields["opaque_id"] == "op-1" and fields["ttft_ms"] > 0 and fields["duration_ms"] >= fields["ttft_ms"]
    )
    text = mine[0].getMessage() + json.dumps(fields)
    for forbidden in (SECRET, PROMPT, "The moon"):
        assert forbidden not in text
