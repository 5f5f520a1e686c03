"""``POST /v1/chat/completions`` on chat_completion endpoints, as the OpenAI API answers it.

The body is OpenAI's, translated into the unified chat request every provider takes, so the
same rules, limits and timeouts apply as on the Elasticsearch face:

- ``model`` is the inference id (never sent upstream: the endpoint names the upstream model);
- ``developer`` messages are system messages, an assistant's ``refusal`` its text
  (:mod:`~inference_service.api.openai.messages`); ``max_tokens`` and ``max_completion_tokens``
  are one limit (giving both is a 400); ``stop`` may be a string; ``reasoning_effort`` is the
  unified ``reasoning.effort``; ``user`` goes into the endpoint's task settings where its
  service takes one (a 400 where it does not);
- ``response_format`` (``text``, ``json_object``, ``json_schema``), ``seed``,
  ``frequency_penalty``, ``presence_penalty`` (in [-2, 2]) and ``parallel_tool_calls`` are the
  unified request's own: each provider honours them or answers
  400 naming the field (the OpenAI family passes them on as far as each service takes them,
  Anthropic turns a JSON format into a forced tool and ``parallel_tool_calls: false`` into
  ``disable_parallel_tool_use``, the local model constrains its sampling with the schema); a
  strict ``json_schema`` answer is validated when not streaming (502 when it does not match);
- image (``image_url``: https URLs or data URIs) and ``file`` parts go to providers that read
  them; a text-only provider refuses them with a 400 naming the part;
- ``n`` other than 1 cannot be honoured (400 naming the field), nor can ``logprobs``,
  ``logit_bias``, ``audio``... other than at their neutral value (``null``, ``0``,
  ``false``: :mod:`~inference_service.api.openai.neutral`); any field not listed here is
  refused as unknown, never dropped.

Answers: a ``chat.completion`` object, or OpenAI's data-only event stream of
``chat.completion.chunk`` objects ending in ``data: [DONE]``, with the usage chunk only when
``stream_options.include_usage`` asks for it. A failure after the first byte is one
``data: {"error": ...}`` frame and no ``[DONE]``; before it, a JSON error with its status.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.types import ASGIApp

from inference_service.api.auth import authorize_endpoint
from inference_service.api.bodies import decode_json
from inference_service.api.openai.conventions import json_response, read_json_body, request_deadline
from inference_service.api.openai.errors import openai_error_body, resolve_model, with_user
from inference_service.api.openai.messages import OpenAiMessage, unified_message
from inference_service.api.openai.neutral import NeutralParameters, refuse_what_cannot_be_honoured
from inference_service.api.sse import OPENAI_FRAMING
from inference_service.api.state import services
from inference_service.api.streaming import EventStreamResponse
from inference_service.auth.roles import INFER_BY_MODEL
from inference_service.errors import InferenceServiceError, InvalidRequestError
from inference_service.inference.record import answer_created
from inference_service.model.chat import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    Penalty,
    Reasoning,
    ReasoningEffort,
    ResponseFormat,
    StrictStruct,
    Tool,
    ToolChoiceObject,
    validate_chat_request,
)
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream

_ENCODER = msgspec.json.Encoder()


class StreamOptions(StrictStruct):
    include_usage: bool = False


class OpenAiChatBody(NeutralParameters, kw_only=True):
    model: str
    messages: list[OpenAiMessage]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    stop: str | list[str] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | ToolChoiceObject | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    seed: int | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    reasoning_effort: ReasoningEffort | None = None
    n: int | None = None
    user: str | None = None


_DECODER = msgspec.json.Decoder(OpenAiChatBody)


def to_unified(body: OpenAiChatBody) -> ChatCompletionRequest:
    """The unified request; what it cannot carry is refused, naming the field."""
    refuse_what_cannot_be_honoured(body)
    if body.n is not None and body.n != 1:
        raise InvalidRequestError(f"[n] must be 1: one answer per request, got [{body.n}]", param="n")
    if body.max_tokens is not None and body.max_completion_tokens is not None:
        raise InvalidRequestError("give one of [max_tokens] or [max_completion_tokens]", param="max_tokens")
    if body.stream_options is not None and not body.stream:
        raise InvalidRequestError(
            "[stream_options] is only allowed with [stream: true]", param="stream_options"
        )
    messages = [unified_message(m) for m in body.messages]
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    reasoning = Reasoning(effort=body.reasoning_effort) if body.reasoning_effort is not None else None
    return ChatCompletionRequest(
        messages=messages,
        max_completion_tokens=body.max_completion_tokens or body.max_tokens,
        stop=stop,
        temperature=body.temperature,
        top_p=body.top_p,
        tools=body.tools,
        tool_choice=body.tool_choice,
        reasoning=reasoning,
        response_format=body.response_format,
        seed=body.seed,
        frequency_penalty=body.frequency_penalty,
        presence_penalty=body.presence_penalty,
        parallel_tool_calls=body.parallel_tool_calls,
    )


async def create_chat_completion(request: Request) -> ASGIApp:
    state = services(request)
    body = decode_json(
        await read_json_body(request, state.settings.max_body_bytes), _DECODER, "chat.completions"
    )
    chat = to_unified(body)
    validate_chat_request(chat)
    authorize_endpoint(request, INFER_BY_MODEL, body.model)
    target = await resolve_model(state.inference, body.model, TaskType.CHAT_COMPLETION)
    config = with_user(state.inference, target, body.user)
    deadline = request_deadline(request, state.inference.deadline(TaskType.CHAT_COMPLETION, None))
    if not body.stream:
        answer = msgspec.to_builtins(await state.inference.chat(target, chat, deadline, config))
        created = answer_created()
        return json_response(
            {"id": answer.pop("id"), "object": answer.pop("object"), "created": created, **answer}
        )
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    chunks = _openai_chunks(state.inference.stream_chat(target, chat, config), include_usage)
    return EventStreamResponse(
        chunks,
        render_error=render_stream_error,
        deadline=deadline,
        idle_s=state.settings.stream_idle_timeout,
        framing=OPENAI_FRAMING,
    )


def render_stream_error(exc: InferenceServiceError, started: bool) -> bytes:
    """The OpenAI error object, as a stream's error frame or a refused stream's JSON body."""
    return _ENCODER.encode(openai_error_body(exc))


async def _openai_chunks(chunks: ChunkStream, include_usage: bool) -> AsyncGenerator[list[bytes], None]:
    """Each chunk as OpenAI writes it: with ``created`` (spliced in after ``{``; taken when the
    first chunk is there, so a cached answer keeps its own) and, unless asked for, without the
    usage chunk."""
    encode = _ENCODER.encode
    stamp = b""
    try:
        async for batch in chunks:
            if not stamp:
                stamp = b'{"created":%d,' % answer_created()
            frames = [stamp + encode(c)[1:] for c in batch if include_usage or not _usage_only(c)]
            if frames:
                yield frames
    finally:
        await chunks.aclose()


def _usage_only(chunk: ChatCompletionChunk) -> bool:
    return not chunk.choices and chunk.usage is not None
