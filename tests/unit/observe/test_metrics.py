"""Feeding the Prometheus metrics from finished requests (inference_service.observe.metrics):
the process's registry, read back with ``get_sample_value``."""

from __future__ import annotations

import itertools

from prometheus_client import REGISTRY

from inference_service.inference.record import CacheUse, RequestRecord
from inference_service.inference.route import Attempt, Route
from inference_service.observe.metrics import Metrics, exposition
from tests.support.endpoints import chat_endpoint

_ids = itertools.count()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_finished_stream_feeds_every_series() -> None:
    ep = chat_endpoint(f"metered-{next(_ids)}")
    labels = {
        "face": "openai",
        "task_type": "chat_completion",
        "endpoint": ep.endpoint.inference_id,
        "service": "openai",
    }
    metrics = Metrics()
    record = RequestRecord(
        face="openai",
        target=ep,
        status=200,
        streaming=True,
        started=100.0,
        upstream_sent_at=100.002,
        first_byte_at=100.05,
        finished_at=100.45,
        input_tokens=10,
        output_tokens=5,
        upstream_attempts=2,
        rate_limit_wait_s=0.25,
        cache=CacheUse(misses=1),
        idempotency="stored",
        route=Route("r", attempts=[Attempt(ep.endpoint.inference_id, "429")]),
    )
    in_flight = sample("inference_service_requests_in_flight", face="openai")
    metrics.started(record)
    assert sample("inference_service_requests_in_flight", face="openai") == in_flight + 1
    metrics.observe(record)
    assert sample("inference_service_requests_in_flight", face="openai") == in_flight
    assert sample("inference_service_requests_total", **labels, status="200") == 1
    assert abs(sample("gen_ai_server_time_to_first_token_seconds_sum", **labels) - 0.05) < 1e-9
    assert abs(sample("gen_ai_server_time_per_output_token_seconds_sum", **labels) - 0.1) < 1e-9
    assert abs(sample("gen_ai_server_request_duration_seconds_sum", **labels) - 0.45) < 1e-9
    assert sample("gen_ai_client_token_usage_sum", **labels, gen_ai_token_type="input") == 10
    assert sample("gen_ai_client_token_usage_sum", **labels, gen_ai_token_type="output") == 5
    assert abs(sample("inference_service_gateway_overhead_seconds_sum", **labels) - 0.002) < 1e-9
    assert sample("inference_service_rate_limit_wait_seconds_count", **labels) == 1
    assert sample("inference_service_upstream_attempts_total", **labels) == 2
    assert sample("inference_service_cache_lookups_total", **labels, outcome="miss") == 1
    assert sample("inference_service_idempotency_total", **labels, outcome="stored") == 1
    failover = {"router": "r", "target": ep.endpoint.inference_id, "outcome": "429"}
    assert sample("inference_service_failovers_total", **failover) == 1
    assert b"gen_ai_server_time_to_first_token_seconds_bucket" in exposition()


def test_a_failure_without_an_endpoint_counts_under_empty_labels() -> None:
    metrics = Metrics()
    empty = {"face": "elasticsearch", "task_type": "", "endpoint": "", "service": ""}
    before = sample("inference_service_errors_total", **empty, error_type="ParseError")
    record = RequestRecord(
        face="elasticsearch", status=400, error_type="ParseError", started=1.0, finished_at=1.1
    )
    metrics.started(record)
    metrics.observe(record)
    assert sample("inference_service_errors_total", **empty, error_type="ParseError") == before + 1
