"""OpenTelemetry traces (the optional ``otel`` extra, setting ``tracing = true``).

A server span per request, started by the observing middleware with the caller's W3C trace
context (``traceparent``), and a client span per provider call (every retry and every router
target its own), made current while the call runs so the upstream request carries
``traceparent``. Attributes follow the OpenTelemetry GenAI semantic conventions:
``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.response.finish_reasons``,
``error.type``, plus ``http.response.status_code`` on the server span.

Configuration is the standard ``OTEL_*`` variables: ``OTEL_SERVICE_NAME`` (default
``inference-service``) and ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_TRACES_EXPORTER`` (``otlp``, the default, over HTTP/protobuf with the
``OTEL_EXPORTER_OTLP_*`` variables; ``console``; ``none``), ``OTEL_BSP_*`` for the batching.

Off (the default), nothing here is imported: the middleware and the pipeline check one
``None`` and the upstream requests carry no extra header.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from contextvars import Token
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.inference.pipeline import ChatHandler, UnaryHandler, UnaryRequest, UnaryResult, Wrapper
from inference_service.inference.record import RequestRecord
from inference_service.model.chat import ChatCompletionRequest, Usage
from inference_service.model.embedding import TextEmbeddingResult
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream, EndpointConfig

OPERATIONS = {
    TaskType.CHAT_COMPLETION: "chat",
    TaskType.COMPLETION: "text_completion",
    TaskType.TEXT_EMBEDDING: "embeddings",
    TaskType.SPARSE_EMBEDDING: "embeddings",
    TaskType.RERANK: "rerank",
}
PROVIDER_NAMES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "cohere": "cohere",
    "mistral": "mistral_ai",
    "azureopenai": "azure.ai.openai",
    "googleaistudio": "gcp.gemini",
    "llamacpp": "llama.cpp",
}
"""Our service names as the conventions' well-known ``gen_ai.provider.name`` values; the
others go as they are."""


class TracingError(Exception):
    """The ``OTEL_*`` configuration asks for something this installation cannot do."""


def exporter_from_environment() -> SpanExporter | None:
    """The exporter ``OTEL_TRACES_EXPORTER`` names (None for ``none``)."""
    name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise TracingError(f"OTEL_TRACES_EXPORTER [{name}] is not supported: use otlp, console or none")
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise TracingError(f"OTEL_EXPORTER_OTLP_PROTOCOL [{protocol}] is not supported: use http/protobuf")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


class Tracing:
    """Spans for one app, from its own tracer provider (never the process-global one, so an
    embedding application's tracing is left alone)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("inference_service")

    @classmethod
    def from_environment(cls) -> Tracing:
        defaults = {SERVICE_NAME: "inference-service"} if not os.environ.get("OTEL_SERVICE_NAME") else {}
        provider = TracerProvider(resource=Resource.create(defaults))
        exporter = exporter_from_environment()
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    def shutdown(self) -> None:
        self.provider.shutdown()

    @staticmethod
    def inject(headers: dict[str, str]) -> None:
        """Add ``traceparent`` (and ``tracestate``) of the current span to an upstream request."""
        propagate.inject(headers)

    # -- the server span, one per request ---------------------------------------------------

    def start_server(self, scope: MutableMapping[str, Any]) -> tuple[Span, Token[Context]]:
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        parent = propagate.extract(carrier)
        span = self._tracer.start_span(scope["method"], context=parent, kind=SpanKind.SERVER)
        token = context.attach(trace.set_span_in_context(span, parent))
        return span, token

    def finish_server(self, span: Span, token: Token[Context], record: RequestRecord) -> None:
        context.detach(token)
        span.set_attribute("http.response.status_code", record.status)
        span.set_attribute("inference_service.request_id", record.request_id)
        target = record.target
        if target is not None:
            operation = OPERATIONS[target.endpoint.task_type]
            model = request_model(target)
            span.update_name(f"{operation} {model}" if model else operation)
            span.set_attributes(_endpoint_attributes(target, operation, model))
            _usage(span, record.input_tokens, record.output_tokens)
            if record.finish_reasons:
                span.set_attribute("gen_ai.response.finish_reasons", record.finish_reasons)
        if record.error_type is not None:
            span.set_attribute("error.type", record.error_type)
            if record.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
        span.end()

    # -- a client span per provider call ----------------------------------------------------

    def wrapper(self) -> Wrapper:
        return _TracedCalls(self._tracer)


class _TracedCalls(Wrapper):
    """Innermost in the pipeline: a client span around each provider call, current while the
    call runs (each read of a stream), so :meth:`Tracing.inject` finds it."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def _start(self, target: ResolvedEndpoint) -> tuple[Span, Context]:
        operation = OPERATIONS[target.endpoint.task_type]
        model = request_model(target)
        span = self._tracer.start_span(
            f"{operation} {model}" if model else operation,
            kind=SpanKind.CLIENT,
            attributes=_endpoint_attributes(target, operation, model),
        )
        return span, trace.set_span_in_context(span)

    def stream(self, inner: ChatHandler) -> ChatHandler:
        async def traced(target: Any, config: EndpointConfig, request: ChatCompletionRequest) -> ChunkStream:
            span, current = self._start(target)
            usage: Usage | None = None
            reasons: list[str] = []
            token = context.attach(current)
            try:
                stream = inner(target, config, request)
            finally:
                context.detach(token)
            try:
                while True:
                    token = context.attach(current)
                    try:
                        batch = await anext(stream)
                    except StopAsyncIteration:
                        break
                    finally:
                        context.detach(token)
                    for chunk in batch:
                        if chunk.usage is not None:
                            usage = chunk.usage
                        reasons.extend(c.finish_reason for c in chunk.choices if c.finish_reason is not None)
                    yield batch
            except Exception as exc:
                _failed(span, exc)
                raise
            finally:
                await stream.aclose()
                if usage is not None:
                    _usage(span, usage.prompt_tokens, usage.completion_tokens)
                if reasons:
                    span.set_attribute("gen_ai.response.finish_reasons", reasons)
                span.end()

        return traced

    def unary(self, inner: UnaryHandler) -> UnaryHandler:
        async def traced(target: Any, config: EndpointConfig, request: UnaryRequest) -> UnaryResult:
            span, current = self._start(target)
            token = context.attach(current)
            try:
                result = await inner(target, config, request)
            except Exception as exc:
                _failed(span, exc)
                raise
            finally:
                context.detach(token)
                span.end()
            if isinstance(result, TextEmbeddingResult) and result.input_tokens:
                span.set_attribute("gen_ai.usage.input_tokens", result.input_tokens)
            return result

        return traced


def request_model(target: ResolvedEndpoint) -> str | None:
    """The upstream model the endpoint asks for, when its settings name one."""
    settings = target.endpoint.service_settings
    for name in ("model_id", "model", "deployment_id"):
        value = settings.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _endpoint_attributes(target: ResolvedEndpoint, operation: str, model: str | None) -> dict[str, Any]:
    service = target.spec.name
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": PROVIDER_NAMES.get(service, service),
        "inference_service.endpoint": target.endpoint.inference_id,
    }
    if model is not None:
        attributes["gen_ai.request.model"] = model
    return attributes


def _usage(span: Span, input_tokens: int, output_tokens: int) -> None:
    if input_tokens:
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
    if output_tokens:
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)


def _failed(span: Span, exc: BaseException) -> None:
    span.set_attribute("error.type", type(exc).__name__)
    span.set_status(Status(StatusCode.ERROR))
