"""What the OpenAPI document says about each operation, beside what the routes already say.

The routes (``api/es/routes.py``, ``api/openai/routes.py``) give the paths, the methods and the
action each performs (None: served without a key); this table gives the rest, per
``(OpenAPI path, method)``: the query parameters the handler accepts (its
``check_request(...)`` list: an unknown one is a 400 on the Elasticsearch face), the body, the
answer and the error statuses. The document is built by walking the app's routes and looking
each one up here, so a route without an entry fails the generator (and its unit test), and an
entry without a route is reported by that test too.

Kept apart from the route tables on purpose: those read like the Elasticsearch REST spec, and
this is documentation-only data the hot path never touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from inference_service.api.es.security import CreateApiKeyBody, InvalidateApiKeyBody
from inference_service.api.openai.chat import OpenAiChatBody
from inference_service.api.openai.completions import CompletionsBody
from inference_service.api.openai.embeddings import EmbeddingsBody
from inference_service.api.openai.rerank import RerankBody
from inference_service.api.openapi import wire
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest
from inference_service.model.completion import InferenceRequest

Face = Literal["elasticsearch", "openai"]
Stream = Literal["es", "openai"]

PUT_BODY = "PutEndpointBody"
UPDATE_BODY = "UpdateEndpointBody"
"""Bodies built from the provider registry (``providers.py``), named by component."""

ES_COMMON = ("pretty", "human", "error_trace", "filter_path")
"""Accepted by every Elasticsearch route (``api/es/conventions.COMMON_PARAMS``)."""

QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "pretty": ({"type": "boolean"}, "Indent the JSON answer."),
    "human": ({"type": "boolean"}, "Accepted for Elasticsearch compatibility; no effect."),
    "error_trace": ({"type": "boolean"}, "Accepted for Elasticsearch compatibility; no effect."),
    "filter_path": (
        {"type": "string"},
        "Comma-separated dotted paths (`*` matches one key, `**` any depth) of the answer to keep: "
        "the answer is then a subset of the schema below.",
    ),
    "timeout": (
        {"type": "string", "pattern": r"^(-1|0|[0-9]+(nanos|micros|ms|s|m|h|d))$"},
        "An Elasticsearch time value (`30s`, `500ms`) for this request; `0`/`-1`: the default.",
    ),
    "validate": (
        {"type": "boolean"},
        "Extension: `false` skips the provider validation call (default: the `validate_on_put` setting).",
    ),
    "dry_run": ({"type": "boolean"}, "List what references the endpoint; delete nothing."),
    "force": ({"type": "boolean"}, "Delete even an endpoint routers target."),
    "refresh": ({"type": "string"}, "Accepted for Elasticsearch compatibility; keys are visible at once."),
    "id": ({"type": "string"}, "Only the key with this id."),
    "name": ({"type": "string"}, "Only keys with this name (a trailing `*` matches a prefix)."),
    "active_only": ({"type": "boolean"}, "Leave out invalidated and expired keys."),
    "inference_id": ({"type": "string"}, "Only these endpoints (an id or a comma-separated list)."),
    "since": ({"type": "string"}, "From (ISO 8601 date or datetime, or date math such as `now-1d`)."),
    "until": ({"type": "string"}, "Until, excluded (ISO 8601 or date math)."),
    "interval": ({"type": "string", "enum": ["hour", "day"]}, "One entry per hour (default) or day."),
}

AUTH = (401, 403, 429)
"""Every secured operation: no or a bad key, a key without the role or the endpoint, too many
failed attempts from one address."""
BODY = (406, 413)
"""Operations reading a JSON body on the Elasticsearch face: wrong Content-Type, too long."""
UPSTREAM = (408, 502, 504, "4XX")
"""Operations calling a provider: the deadline passed, the provider failed or timed out, or it
refused with a 4xx of its own (passed on with its status)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    summary: str
    tag: str
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    body: object = None
    """A type (msgspec turns it into a schema), a tuple of types (any of them) or the name of
    a component built elsewhere; None: no body."""
    body_required: bool = True
    answer: object = None
    """A type or a tuple of types (any of them): the 200 JSON answer."""
    stream: Stream | None = None
    """``es``: the answer is a ``text/event-stream`` of ``events`` (errors too, once the body
    is read); ``openai``: it is one when the body asks for ``stream: true``."""
    events: object = None
    errors: tuple[int | str, ...] = ()
    unified_errors: bool = False
    """The Elasticsearch chat path may also answer in its OpenAI-style error body."""
    ready_503: bool = False
    """A 503 answers with the same body as the 200 (the readiness probe)."""
    text: str | None = None
    """The media type of a plain-text 200 answer (``/metrics``) instead of JSON."""
    examples: dict[str, str] | None = None
    """Example path parameter values (the fuzz test seeds endpoints with these ids)."""
    body_examples: tuple[dict[str, Any], ...] = ()


CHAT = {"messages": [{"role": "user", "content": "Say hello"}]}
# Examples name the endpoints the fuzz test seeds (tests/e2e/test_openapi_fuzz.py), so its
# example phase reaches a provider call on every inference operation.
INFER_EXAMPLES: dict[tuple[bool, bool], tuple[dict[str, str], dict[str, Any]]] = {
    (False, False): ({"inference_id": "fuzz-chat"}, CHAT),
    (True, False): ({"task_type": "text_embedding", "inference_id": "fuzz-embed"}, {"input": ["a", "b"]}),
    (False, True): ({"inference_id": "fuzz-completion"}, {"input": "Say hello"}),
    (True, True): ({"task_type": "chat_completion", "inference_id": "fuzz-chat"}, CHAT),
}


def _es_infer(task: bool, stream: bool) -> Operation:
    where = "of the task type in the path" if task else "(its task type decides the body)"
    path_example, body_example = INFER_EXAMPLES[task, stream]
    return Operation(
        summary=("Stream the answer of an endpoint " if stream else "Perform inference on an endpoint ")
        + where,
        tag="inference",
        query=(*ES_COMMON, "timeout"),
        body=(InferenceRequest, ChatCompletionRequest),
        answer=None if stream else wire.INFERENCE_ANSWERS,
        stream="es" if stream else None,
        events=(ChatCompletionChunk, wire.CompletionEvent) if stream else None,
        errors=(400, 404, *([405] if stream else []), *BODY, *UPSTREAM, *AUTH),
        unified_errors=True,
        examples=path_example,
        body_examples=(body_example,),
    )


def _es_endpoint(task: bool) -> dict[str, Operation]:
    put_query = (*ES_COMMON, "timeout", "validate")
    return {
        "GET": Operation(
            summary="Get an endpoint (`_all` or `*`: every endpoint"
            + (" of the task type)" if task else ")"),
            tag="management",
            query=ES_COMMON,
            answer=wire.EndpointList,
            errors=(400, 404, *AUTH),
        ),
        "PUT": Operation(
            summary="Create an endpoint",
            tag="management",
            query=put_query,
            body=PUT_BODY,
            answer=wire.EndpointInfo,
            errors=(400, 409, *BODY, *UPSTREAM, *AUTH),
            examples={"inference_id": "fuzz-created", "task_type": "text_embedding"},
            body_examples=(
                {
                    "service": "openai",
                    "task_type": "text_embedding",
                    "service_settings": {
                        "api_key": "sk-example",
                        "model_id": "text-embedding-3-small",
                        "url": "http://127.0.0.1:9/v1/embeddings",
                        "dimensions": 3,
                    },
                },
            ),
        ),
        "DELETE": Operation(
            summary="Delete an endpoint",
            tag="management",
            query=(*ES_COMMON, "dry_run", "force"),
            answer=wire.Deletion,
            errors=(400, 404, 409, *AUTH),
            examples={"inference_id": "fuzz-deleted", "task_type": "text_embedding"},
        ),
        "POST": _es_infer(task, stream=False),
    }


def _update(task: bool) -> Operation:
    return Operation(
        summary="Update an endpoint's settings" + (" (the task type must be its own)" if task else ""),
        tag="management",
        query=(*ES_COMMON, "timeout", "validate"),
        body=UPDATE_BODY,
        answer=wire.EndpointInfo,
        errors=(400, 404, 409, *BODY, *UPSTREAM, *AUTH),
        examples={"inference_id": "fuzz-updated", "task_type": "text_embedding"},
        body_examples=({"task_settings": {"user": "fuzz"}},),
    )


def _v1(
    summary: str, body: type, answer: type, *examples: dict[str, Any], events: type | None = None
) -> Operation:
    """An inference operation of ``/v1``; with ``events``, ``stream: true`` answers a stream."""
    return Operation(
        body_examples=examples,
        summary=summary,
        tag="openai",
        headers=("x-request-timeout",),
        body=body,
        answer=answer,
        stream="openai" if events is not None else None,
        events=events,
        errors=(400, 404, 413, *UPSTREAM, *AUTH),
    )


_LIST = Operation(
    summary="List every endpoint the key may use",
    tag="management",
    query=ES_COMMON,
    answer=wire.EndpointList,
    errors=(400, *AUTH),
)

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/", "GET"): Operation(
        summary="Service info, in the shape of Elasticsearch's root endpoint",
        tag="service",
        query=ES_COMMON,
        answer=wire.RootInfo,
        errors=(400,),
    ),
    ("/metrics", "GET"): Operation(
        summary="Prometheus metrics of every worker (extension)",
        tag="service",
        text="text/plain",
        errors=AUTH,
    ),
    ("/_health/live", "GET"): Operation(
        summary="Liveness: the process serves requests (extension; no key)",
        tag="service",
        query=ES_COMMON,
        answer=wire.Live,
        errors=(400,),
    ),
    ("/_health/ready", "GET"): Operation(
        summary="Readiness: database, catalog, preloaded models, not draining (extension; no key)",
        tag="service",
        query=ES_COMMON,
        answer=wire.Ready,
        ready_503=True,
        errors=(400,),
    ),
    ("/openapi.json", "GET"): Operation(
        summary="This document", tag="service", query=ES_COMMON, answer=dict, errors=(400,)
    ),
    ("/_inference", "GET"): _LIST,
    ("/_inference/_all", "GET"): _LIST,
    ("/_inference/_services", "GET"): Operation(
        summary="Every service and the settings it takes, as Elasticsearch describes them",
        tag="services",
        query=ES_COMMON,
        answer=list[wire.ServiceDescription],
        errors=(400, *AUTH),
    ),
    ("/_inference/_services/{task_type}", "GET"): Operation(
        summary="The services serving a task type",
        tag="services",
        query=ES_COMMON,
        answer=list[wire.ServiceDescription],
        errors=(400, *AUTH),
        examples={"task_type": "chat_completion"},
    ),
    ("/_inference/_usage", "GET"): Operation(
        summary="Usage per period, endpoint and API key (extension)",
        tag="usage",
        query=(*ES_COMMON, "inference_id", "since", "until", "interval"),
        answer=wire.UsageReport,
        errors=(400, *AUTH),
    ),
    ("/_inference/{inference_id}/_update", "PUT"): _update(task=False),
    ("/_inference/{inference_id}/_stream", "POST"): _es_infer(task=False, stream=True),
    ("/_inference/{task_type}/{inference_id}/_update", "PUT"): _update(task=True),
    ("/_inference/{task_type}/{inference_id}/_stream", "POST"): _es_infer(task=True, stream=True),
    **{("/_inference/{inference_id}", m): op for m, op in _es_endpoint(task=False).items()},
    **{("/_inference/{task_type}/{inference_id}", m): op for m, op in _es_endpoint(task=True).items()},
    **{
        ("/_security/api_key", method): Operation(
            summary="Create an API key",
            tag="security",
            query=(*ES_COMMON, "refresh"),
            body=CreateApiKeyBody,
            answer=wire.CreatedApiKey,
            errors=(400, *BODY, *AUTH),
        )
        for method in ("PUT", "POST")
    },
    ("/_security/api_key", "GET"): Operation(
        summary="Get API keys (never their secrets)",
        tag="security",
        query=(*ES_COMMON, "id", "name", "active_only"),
        answer=wire.ApiKeyList,
        errors=(400, *AUTH),
    ),
    ("/_security/api_key", "DELETE"): Operation(
        summary="Invalidate API keys by id or by name",
        tag="security",
        query=ES_COMMON,
        body=InvalidateApiKeyBody,
        answer=wire.Invalidation,
        errors=(400, *BODY, *AUTH),
    ),
    ("/_security/_authenticate", "GET"): Operation(
        summary="Who the caller is",
        tag="security",
        query=ES_COMMON,
        answer=wire.Authentication,
        errors=(400, *AUTH),
    ),
    ("/v1/chat/completions", "POST"): _v1(
        "Chat completion (`stream: true`: a stream of chunks)",
        OpenAiChatBody,
        wire.OpenAiChatCompletion,
        {"model": "fuzz-chat", **CHAT},
        {"model": "fuzz-chat", "stream": True, "stream_options": {"include_usage": True}, **CHAT},
        events=wire.OpenAiChatCompletionChunk,
    ),
    ("/v1/completions", "POST"): _v1(
        "Legacy completion (`stream: true`: a stream)",
        CompletionsBody,
        wire.TextCompletion,
        {"model": "fuzz-completion", "prompt": ["Say hello", "Say bye"]},
        {"model": "fuzz-completion", "prompt": "Say hello", "stream": True},
        events=wire.TextCompletion,
    ),
    ("/v1/embeddings", "POST"): _v1(
        "Embeddings",
        EmbeddingsBody,
        wire.EmbeddingList,
        {"model": "fuzz-embed", "input": ["a", "b"]},
        {"model": "fuzz-embed", "input": "a", "encoding_format": "base64"},
    ),
    ("/v1/rerank", "POST"): _v1(
        "Rerank documents (Cohere/Jina shape)",
        RerankBody,
        wire.RerankList,
        {"model": "fuzz-rerank", "query": "q", "documents": ["a", {"text": "b"}], "return_documents": True},
    ),
    ("/v1/models", "GET"): Operation(
        summary="List the endpoints the key may use, as models",
        tag="openai",
        answer=wire.ModelList,
        errors=AUTH,
    ),
    ("/v1/models/{model}", "GET"): Operation(
        summary="One endpoint, as a model",
        tag="openai",
        answer=wire.Model,
        errors=(404, *AUTH),
        examples={"model": "fuzz-embed"},
    ),
}
"""Every operation of the app, by OpenAPI path and method (HEAD, which Starlette adds to
every GET, is left out of the document)."""
