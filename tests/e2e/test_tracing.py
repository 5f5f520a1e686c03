"""OpenTelemetry traces end to end: the service under hypercorn with an in-memory span
exporter, a fake OpenAI server that records the trace context it receives, httpx as client."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from inference_service.observe.tracing import Tracing
from tests.conftest import make_settings
from tests.fakes import openai as fake_openai
from tests.fakes.server import FakeProvider, Reply
from tests.support.service import RunningService, run_service

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
_ids = itertools.count()


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, exporter: InMemorySpanExporter) -> Iterator[RunningService]:
    from inference_service.store.migrate import upgrade

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = make_settings(tmp_path_factory.mktemp("tracing"), upstream_max_retries=1)
    upgrade(settings)
    with run_service(settings, tracing=Tracing(provider)) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(upstream: FakeProvider, exporter: InMemorySpanExporter) -> Iterator[None]:
    upstream.clear()
    exporter.clear()
    yield
    upstream.clear()


def put_chat(svc: RunningService, upstream: FakeProvider) -> str:
    inference_id = f"traced-{next(_ids)}"
    settings = {"api_key": "sk-t", "model_id": "gpt-4o-mini", "url": upstream.url + "/v1/chat/completions"}
    body = {"service": "openai", "service_settings": settings}
    assert httpx.put(f"{svc.url}/_inference/chat_completion/{inference_id}", json=body).status_code == 200
    return inference_id


def traced(
    exporter: InMemorySpanExporter, response: httpx.Response
) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """The server span of ``response`` (found by its request id) and the client spans of its
    trace. A server span ends just after the response's last byte, so a moment after the client
    has it: wait for it."""
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 5
    while True:
        finished = exporter.get_finished_spans()
        servers = [
            s
            for s in finished
            if s.kind == SpanKind.SERVER
            and dict(s.attributes or {}).get("inference_service.request_id") == request_id
        ]
        if servers or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    (server,) = servers
    trace_id = server.context.trace_id
    clients = [s for s in finished if s.kind == SpanKind.CLIENT and s.context.trace_id == trace_id]
    return server, clients


def test_a_stream_has_a_server_span_in_the_callers_trace_and_a_client_span_per_call(
    svc: RunningService, upstream: FakeProvider, exporter: InMemorySpanExporter
) -> None:
    inference_id = put_chat(svc, upstream)
    upstream.enqueue(
        fake_openai.stream_reply(["Hi", "!"], usage=fake_openai.usage(6, 2), finish_reason="stop")
    )
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream",
        json={"messages": [{"role": "user", "content": "Hello"}]},
        headers={"traceparent": TRACEPARENT},
    )
    assert response.status_code == 200
    server, (client,) = traced(exporter, response)
    assert f"{server.context.trace_id:032x}" == CALLER_TRACE and server.parent is not None
    assert server.name == "chat gpt-4o-mini" and client.name == "chat gpt-4o-mini"
    assert client.parent is not None and client.parent.span_id == server.context.span_id
    for span in (server, client):
        attributes = dict(span.attributes or {})
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "openai"
        assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (6, 2)
        assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert dict(server.attributes or {})["http.response.status_code"] == 200
    sent = upstream.last_request.headers["traceparent"]
    assert sent == f"00-{CALLER_TRACE}-{client.context.span_id:016x}-01"


def test_each_retry_is_a_client_span_and_failures_carry_error_type(
    svc: RunningService, upstream: FakeProvider, exporter: InMemorySpanExporter
) -> None:
    inference_id = put_chat(svc, upstream)
    unavailable = Reply.json(503, fake_openai.error_body("busy", "server_error"))
    upstream.enqueue(unavailable, unavailable)
    response = httpx.post(
        f"{svc.url}/_inference/chat_completion/{inference_id}/_stream",
        json={"messages": [{"role": "user", "content": "Hello"}]},
    )
    assert response.status_code == 502
    server, clients = traced(exporter, response)
    assert len(clients) == 2
    assert all(dict(c.attributes or {})["error.type"] == "UpstreamError" for c in clients)
    assert all(c.status.status_code == StatusCode.ERROR for c in clients)
    assert dict(server.attributes or {})["error.type"] == "UpstreamError"
    assert server.status.status_code == StatusCode.ERROR
    assert len({c.context.trace_id for c in clients} | {server.context.trace_id}) == 1


def test_requests_without_an_endpoint_are_spans_of_their_method(
    svc: RunningService, exporter: InMemorySpanExporter
) -> None:
    response = httpx.get(f"{svc.url}/")
    assert response.status_code == 200
    server, clients = traced(exporter, response)
    assert (
        not clients and server.name == "GET" and "gen_ai.operation.name" not in dict(server.attributes or {})
    )
