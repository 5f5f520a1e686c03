"""Performing inference: ``POST /_inference/[{task_type}/]{id}[/_stream]``.

``chat_completion`` streams on ``_stream`` and, without it, answers one ``chat.completion``
object (Elasticsearch 9.6; 9.1 answered 400); ``completion`` answers as one JSON document or,
on ``_stream``, as ``{"completion":[{"delta":…}]}`` events. All run through the service layer;
a completion is a chat with one user message.

Error formats follow Elasticsearch: failures while preparing the request (missing body, bad
``timeout``, unknown query parameter) are ordinary JSON errors; failures once the body is
parsed go out as one SSE ``error`` frame — OpenAI-style for chat, the ES envelope for
completion — with the error's status.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from inference_service.api.bodies import decode_json
from inference_service.api.es.conventions import check_request, json_response, read_json_body
from inference_service.api.es.endpoints import path_task_type
from inference_service.api.es.errors import render_es, render_unified, unified_error_body
from inference_service.api.es.retrieval import perform_retrieval
from inference_service.api.state import Services, services
from inference_service.api.streaming import ErrorRenderer, EventStreamError, EventStreamResponse
from inference_service.endpoints.catalog import ResolvedEndpoint
from inference_service.errors import (
    ActionValidationError,
    InferenceServiceError,
    MethodNotAllowedError,
    TaskTypeMismatchError,
    validation_failed,
)
from inference_service.inference.deadline import Deadline
from inference_service.model.chat import ChatCompletionChunk, ChatCompletionRequest, validate_chat_request
from inference_service.model.completion import InferenceRequest, validate_inference_request
from inference_service.model.task_type import TaskType
from inference_service.model.time_value import parse_time_value
from inference_service.providers.base import ChunkStream, EndpointConfig

_ENCODER = msgspec.json.Encoder()
_CHAT_DECODER = msgspec.json.Decoder(ChatCompletionRequest)
_INFERENCE_DECODER = msgspec.json.Decoder(InferenceRequest)
_DELTA_PREFIX = b'{"completion":[{"delta":'
_DELTA_SUFFIX = b"}]}"


async def _prepare(request: Request) -> tuple[Services, str, TaskType, Deadline, bytes]:
    """What every inference request needs before its body is interpreted (JSON errors)."""
    check_request(request, ("timeout",))
    state = services(request)
    inference_id = request.path_params["inference_id"]
    task_type = path_task_type(request)
    if task_type is None:
        task_type = (await state.inference.resolve(inference_id)).endpoint.task_type
    deadline = state.inference.deadline(task_type, request.query_params.get("timeout"))
    body = await read_json_body(request, state.settings.max_body_bytes)
    return state, inference_id, task_type, deadline, body


async def stream_inference(request: Request) -> ASGIApp:
    """``…/_stream``: dispatch on the URL task type, or on the endpoint's when the URL has none."""
    state, inference_id, task_type, deadline, body = await _prepare(request)
    if task_type == TaskType.CHAT_COMPLETION:
        return await _chat_stream(state, inference_id, body, deadline)
    if task_type == TaskType.COMPLETION:
        return await _completion_stream(state, inference_id, body, deadline)
    exc = MethodNotAllowedError(
        f"Streaming is not allowed for task [{task_type}]. Supported tasks: [completion,chat_completion]"
    )
    return EventStreamError(exc, render_es, bom=state.settings.sse_bom)


def _respond(
    state: Services, chunks: AsyncGenerator[list[bytes], None], render: ErrorRenderer, deadline: Deadline
) -> EventStreamResponse:
    return EventStreamResponse(
        chunks,
        render_error=render,
        deadline=deadline,
        idle_s=state.settings.stream_idle_timeout,
        bom=state.settings.sse_bom,
    )


async def _chat_target(
    state: Services, inference_id: str, body: bytes
) -> tuple[ChatCompletionRequest, ResolvedEndpoint]:
    chat = decode_json(body, _CHAT_DECODER, "UnifiedCompletionRequest")
    validate_chat_request(chat)
    target = await state.inference.resolve(inference_id)
    if target.endpoint.task_type != TaskType.CHAT_COMPLETION:
        raise TaskTypeMismatchError(
            "Incompatible task_type for unified API, the requested type "
            f"[{target.endpoint.task_type}] must be one of [chat_completion]"
        )
    return chat, target


async def _chat(
    request: Request, state: Services, inference_id: str, body: bytes, deadline: Deadline
) -> Response:
    """Non-streaming chat (Elasticsearch 9.6): the whole answer as one ``chat.completion``
    object, errors in the chat path's OpenAI-style body."""
    try:
        chat, target = await _chat_target(state, inference_id, body)
        answer = await state.inference.chat(target, chat, deadline)
    except InferenceServiceError as exc:
        advice = {"retry-after": exc.retry_after} if exc.retry_after else None  # as on every path
        return json_response(request, unified_error_body(exc), status=exc.status, headers=advice)
    return json_response(request, answer)


async def _chat_stream(state: Services, inference_id: str, body: bytes, deadline: Deadline) -> ASGIApp:
    try:
        chat, target = await _chat_target(state, inference_id, body)
        chunks = state.inference.stream_chat(target, chat)
    except InferenceServiceError as exc:
        return EventStreamError(exc, render_unified, bom=state.settings.sse_bom)
    return _respond(state, _encoded(chunks, _chat_frames), render_unified, deadline)


def _chat_frames(batch: list[ChatCompletionChunk]) -> list[bytes]:
    encode = _ENCODER.encode
    return [encode(chunk) for chunk in batch]


def _completion_frames(batch: list[ChatCompletionChunk]) -> list[bytes]:
    """Completion events carry only the text: ``{"completion":[{"delta":"…"}]}``."""
    encode = _ENCODER.encode
    return [
        _DELTA_PREFIX + encode(choice.delta.content) + _DELTA_SUFFIX
        for chunk in batch
        for choice in chunk.choices
        if choice.delta.content
    ]


async def _encoded(
    chunks: ChunkStream, frames: Callable[[list[ChatCompletionChunk]], list[bytes]]
) -> AsyncGenerator[list[bytes], None]:
    """The stream's batches as frame payloads; batches with nothing to send are skipped."""
    try:
        async for batch in chunks:
            payloads = frames(batch)
            if payloads:
                yield payloads
    finally:
        await chunks.aclose()


async def prepare_request(
    state: Services, inference_id: str, body: bytes, deadline: Deadline, task_type: TaskType
) -> tuple[InferenceRequest, ResolvedEndpoint, EndpointConfig, Deadline]:
    """The decoded and validated body, the endpoint, this request's configuration (per-request
    task settings applied) and the deadline (the body's own ``timeout`` applies when the query
    has none) of a non-chat inference request."""
    inference = decode_json(body, _INFERENCE_DECODER, "inference_request")
    if inference.timeout is not None:
        parse_time_value(inference.timeout)
    validate_inference_request(inference, task_type, state.settings.max_inputs_per_request)
    target = await state.inference.resolve(inference_id)
    if target.endpoint.task_type != task_type:
        raise TaskTypeMismatchError(
            f"Incompatible task_type, the requested type [{task_type}] does not match the model type "
            f"[{target.endpoint.task_type}]"
        )
    config = state.inference.configure(target, inference.task_settings)
    return inference, target, config, deadline.or_body(inference.timeout)


async def _prepare_completion(
    state: Services, inference_id: str, body: bytes, deadline: Deadline, *, streaming: bool
) -> tuple[ResolvedEndpoint, EndpointConfig, list[str], Deadline]:
    inference, target, config, deadline = await prepare_request(
        state, inference_id, body, deadline, TaskType.COMPLETION
    )
    inputs = inference.inputs
    if streaming and len(inputs) != 1:
        raise ActionValidationError(
            validation_failed(["Field [input] must be a single string when streaming a completion"])
        )
    return target, config, inputs, deadline


async def _completion_stream(state: Services, inference_id: str, body: bytes, deadline: Deadline) -> ASGIApp:
    try:
        target, config, inputs, deadline = await _prepare_completion(
            state, inference_id, body, deadline, streaming=True
        )
        chunks = state.inference.stream_completion(target, inputs[0], config)
    except InferenceServiceError as exc:
        return EventStreamError(exc, render_es, bom=state.settings.sse_bom)
    return _respond(state, _encoded(chunks, _completion_frames), render_es, deadline)


async def perform_inference(request: Request) -> Response:
    """Non-streaming ``POST``: every task type."""
    state, inference_id, task_type, deadline, body = await _prepare(request)
    if task_type == TaskType.CHAT_COMPLETION:
        return await _chat(request, state, inference_id, body, deadline)
    if task_type != TaskType.COMPLETION:
        inference, target, config, deadline = await prepare_request(
            state, inference_id, body, deadline, task_type
        )
        return json_response(
            request, await perform_retrieval(state.inference, inference, target, config, deadline)
        )
    target, config, inputs, deadline = await _prepare_completion(
        state, inference_id, body, deadline, streaming=False
    )
    results = await state.inference.complete(target, inputs, config, deadline)
    return json_response(request, {"completion": [{"result": text} for text in results]})
