"""Performing inference: ``POST /_inference/[{task_type}/]{id}[/_stream]`` (reference §1.4, §1.5, §3).

``chat_completion`` streams only (Elasticsearch 9.1 behaviour); ``completion`` answers as one
JSON document or, on ``_stream``, as ``{"completion":[{"delta":…}]}`` events. Both run through
the provider's ``stream_chat``: a completion is a chat with one user message.

Error formats follow Elasticsearch: failures while preparing the request (missing body, bad
``timeout``, unknown query parameter) are ordinary JSON errors; failures once the body is
parsed go out as one SSE ``error`` frame — OpenAI-style for chat, the ES envelope for
completion — with the error's status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from functools import partial

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from inference_service.api.http import check_content_type, check_request, json_response, read_body
from inference_service.api.state import Services, services
from inference_service.api.streaming import ErrorRenderer, EventStreamError, EventStreamResponse
from inference_service.errors import (
    InferenceServiceError,
    InvalidRequestError,
    RequestTimeoutError,
    TaskTypeMismatchError,
    UnsupportedError,
    es_error_body,
    unified_error_body,
)
from inference_service.model.chat import (
    ChatCompletionRequest,
    UserMessage,
    decode_chat_request,
    validate_chat_request,
)
from inference_service.model.completion import decode_inference_request, validate_inference_request
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType
from inference_service.model.time_value import parse_time_value
from inference_service.providers.base import ChunkStream, Provider
from inference_service.providers.config import override_task_settings

_ENCODER = msgspec.json.Encoder()
_DELTA_PREFIX = b'{"completion":[{"delta":'
_DELTA_SUFFIX = b"}]}"


def render_unified(exc: InferenceServiceError, started: bool) -> bytes:
    return _ENCODER.encode(unified_error_body(exc, mid_stream=started))


def render_es(exc: InferenceServiceError, started: bool) -> bytes:
    return _ENCODER.encode(es_error_body(exc))


class _Deadline:
    """The request's ``timeout``: seconds plus the label echoed in "Request timed out after [..]".

    From the query string; the completion body's own ``timeout`` field (as Elasticsearch
    accepts it) applies when the query has none.
    """

    def __init__(self, raw: str | None, default: float) -> None:
        seconds = parse_time_value(raw) if raw is not None else None
        self.given = seconds is not None
        self.default = default
        self.seconds = seconds if seconds is not None else default
        self.label = raw if seconds is not None and raw is not None else f"{default:g}s"

    def or_body(self, raw: str | None) -> _Deadline:
        return self if self.given or raw is None else _Deadline(raw, self.default)


def _default_timeout(state: Services, task_type: TaskType) -> float:
    settings = state.settings
    if task_type == TaskType.CHAT_COMPLETION:
        return settings.chat_completion_timeout
    if task_type == TaskType.COMPLETION:
        return settings.completion_timeout
    return settings.default_timeout


async def _resolve(state: Services, inference_id: str) -> tuple[Endpoint, Provider]:
    endpoint = await state.catalog.resolve(inference_id)
    return endpoint, state.providers[endpoint.service]


async def _read_required_body(request: Request, state: Services) -> bytes:
    body = await read_body(request, state.settings.max_body_bytes)
    if not body.strip():
        raise InvalidRequestError("request body is required", es_type="parse_exception")
    check_content_type(request)
    return body


async def stream_inference(request: Request, inference_id: str, task_type: TaskType | None) -> ASGIApp:
    """``…/_stream``: dispatch on the URL task type, or on the endpoint's when the URL has none."""
    check_request(request, ("timeout",))
    state = services(request)
    if task_type is None:
        endpoint, _ = await _resolve(state, inference_id)
        task_type = endpoint.task_type
    deadline = _Deadline(request.query_params.get("timeout"), _default_timeout(state, task_type))
    body = await _read_required_body(request, state)
    if task_type == TaskType.CHAT_COMPLETION:
        return await _chat_stream(state, inference_id, body, deadline)
    if task_type == TaskType.COMPLETION:
        return await _completion_stream(state, inference_id, body, deadline)
    exc = UnsupportedError(
        f"Streaming is not allowed for task [{task_type}]. Supported tasks: [completion,chat_completion]",
        status=405,
    )
    return EventStreamError(exc, render_es, bom=state.settings.sse_bom)


def _respond(
    state: Services, chunks: AsyncGenerator[list[bytes], None], render: ErrorRenderer, deadline: _Deadline
) -> EventStreamResponse:
    return EventStreamResponse(
        chunks,
        render_error=render,
        deadline_s=deadline.seconds,
        deadline_label=deadline.label,
        idle_s=state.settings.stream_idle_timeout,
        bom=state.settings.sse_bom,
    )


async def _chat_stream(state: Services, inference_id: str, body: bytes, deadline: _Deadline) -> ASGIApp:
    try:
        chat = decode_chat_request(body)
        validate_chat_request(chat)
        endpoint, provider = await _resolve(state, inference_id)
        if endpoint.task_type != TaskType.CHAT_COMPLETION:
            raise TaskTypeMismatchError(
                "Incompatible task_type for unified API, the requested type "
                f"[{endpoint.task_type}] must be one of [chat_completion]"
            )
    except InferenceServiceError as exc:
        return EventStreamError(exc, render_unified, bom=state.settings.sse_bom)
    chunks = _encode_chunks(provider.stream_chat(endpoint, chat), _gate(state, endpoint))
    return _respond(state, chunks, render_unified, deadline)


Gate = Callable[[], Awaitable[None]]
"""Awaited before the provider is called: the endpoint's rate limit (inside the deadline)."""


def _gate(state: Services, endpoint: Endpoint) -> Gate:
    return partial(state.limiter.acquire, endpoint)


async def _encode_chunks(chunks: ChunkStream, gate: Gate) -> AsyncGenerator[list[bytes], None]:
    encode = _ENCODER.encode
    try:
        await gate()
        async for batch in chunks:
            yield [encode(chunk) for chunk in batch]
    finally:
        await chunks.aclose()


def _completion_chat(endpoint: Endpoint, provider: Provider, text: str) -> ChunkStream:
    chat = ChatCompletionRequest(messages=[UserMessage(content=text)])
    return provider.stream_chat(endpoint, chat)


async def _prepare_completion(
    state: Services, inference_id: str, body: bytes, *, streaming: bool
) -> tuple[Endpoint, Provider, list[str], str | None]:
    """The endpoint (with any per-request task settings), its provider, the inputs, and the
    body's own ``timeout``."""
    inference = decode_inference_request(body)
    if inference.timeout is not None:
        parse_time_value(inference.timeout)
    validate_inference_request(inference, TaskType.COMPLETION)
    endpoint, provider = await _resolve(state, inference_id)
    if endpoint.task_type != TaskType.COMPLETION:
        raise TaskTypeMismatchError(
            f"Incompatible task_type, the requested type [completion] does not match the model type "
            f"[{endpoint.task_type}]"
        )
    if inference.task_settings:
        spec = state.registry.get(endpoint.service)
        endpoint = override_task_settings(spec, endpoint, inference.task_settings)
    inputs = [inference.input] if isinstance(inference.input, str) else list(inference.input or ())
    if streaming and len(inputs) != 1:
        raise InvalidRequestError(
            "Validation Failed: 1: Field [input] must be a single string when streaming a completion;",
            es_type="action_request_validation_exception",
        )
    return endpoint, provider, inputs, inference.timeout


async def _completion_stream(state: Services, inference_id: str, body: bytes, deadline: _Deadline) -> ASGIApp:
    try:
        endpoint, provider, inputs, body_timeout = await _prepare_completion(
            state, inference_id, body, streaming=True
        )
        deadline = deadline.or_body(body_timeout)
    except InferenceServiceError as exc:
        return EventStreamError(exc, render_es, bom=state.settings.sse_bom)
    deltas = _completion_deltas(_completion_chat(endpoint, provider, inputs[0]), _gate(state, endpoint))
    return _respond(state, deltas, render_es, deadline)


async def _completion_deltas(chunks: ChunkStream, gate: Gate) -> AsyncGenerator[list[bytes], None]:
    encode = _ENCODER.encode
    try:
        await gate()
        async for batch in chunks:
            deltas = [
                _DELTA_PREFIX + encode(choice.delta.content) + _DELTA_SUFFIX
                for chunk in batch
                for choice in chunk.choices
                if choice.delta.content
            ]
            if deltas:
                yield deltas
    finally:
        await chunks.aclose()


async def perform_inference(request: Request, inference_id: str, task_type: TaskType | None) -> Response:
    """Non-streaming ``POST``: ``completion`` only (chat_completion streams, per ES 9.1)."""
    check_request(request, ("timeout",))
    state = services(request)
    if task_type is None:
        task_type = (await _resolve(state, inference_id))[0].task_type
    deadline = _Deadline(request.query_params.get("timeout"), _default_timeout(state, task_type))
    body = await _read_required_body(request, state)
    if task_type == TaskType.CHAT_COMPLETION:
        raise UnsupportedError(
            "The [chat_completion] task type only supports streaming, please try again with the _stream API"
        )
    if task_type != TaskType.COMPLETION:
        raise UnsupportedError(f"Inference for task type [{task_type}] is not available in this service")
    endpoint, provider, inputs, body_timeout = await _prepare_completion(
        state, inference_id, body, streaming=False
    )
    deadline = deadline.or_body(body_timeout)
    try:
        async with asyncio.timeout(deadline.seconds):
            results = await asyncio.gather(
                *(
                    _collect(_completion_chat(endpoint, provider, text), _gate(state, endpoint))
                    for text in inputs
                )
            )
    except TimeoutError:
        raise RequestTimeoutError(f"Request timed out after [{deadline.label}]") from None
    return json_response(request, {"completion": [{"result": text} for text in results]})


async def _collect(chunks: ChunkStream, gate: Gate) -> str:
    parts: list[str] = []
    try:
        await gate()
        async for batch in chunks:
            parts.extend(c.delta.content for chunk in batch for c in chunk.choices if c.delta.content)
    finally:
        await chunks.aclose()
    return "".join(parts)
