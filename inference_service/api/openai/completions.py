"""``POST /v1/completions`` (OpenAI's legacy completions) on completion endpoints.

``prompt`` is a string or a list of strings (one choice each; streaming takes one prompt);
``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``seed``, ``frequency_penalty``,
``presence_penalty`` and ``user`` as in chat. ``n`` other than 1 is refused; ``echo``,
``logprobs``, ``suffix``, ``best_of`` and ``logit_bias`` only at their neutral value
(:mod:`~inference_service.api.openai.neutral`); every field not listed is refused, never dropped.
Answers are ``text_completion`` objects, or a data-only stream of them ending in ``data: [DONE]``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.types import ASGIApp

from inference_service.api.auth import authorize_endpoint
from inference_service.api.bodies import decode_json
from inference_service.api.openai.chat import render_stream_error
from inference_service.api.openai.conventions import json_response, read_json_body, request_deadline
from inference_service.api.openai.errors import resolve_model, with_user
from inference_service.api.openai.neutral import NeutralCompletionParameters, refuse_what_cannot_be_honoured
from inference_service.api.sse import OPENAI_FRAMING
from inference_service.api.state import services
from inference_service.api.streaming import EventStreamResponse
from inference_service.auth.roles import INFER_BY_MODEL
from inference_service.errors import InvalidRequestError
from inference_service.inference.aggregate import aggregate_chat
from inference_service.inference.deadline import gather, within
from inference_service.inference.record import answer_created
from inference_service.model.chat import ChatCompletionRequest, Penalty, UserMessage
from inference_service.model.task_type import TaskType
from inference_service.providers.base import ChunkStream

_ENCODER = msgspec.json.Encoder()


class CompletionsBody(NeutralCompletionParameters, kw_only=True):
    model: str
    prompt: str | list[str]
    stream: bool = False
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    n: int | None = None
    user: str | None = None


_DECODER = msgspec.json.Decoder(CompletionsBody)


def _chat(body: CompletionsBody, prompt: str) -> ChatCompletionRequest:
    return ChatCompletionRequest(
        messages=[UserMessage(content=prompt)],
        max_completion_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=[body.stop] if isinstance(body.stop, str) else body.stop,
        seed=body.seed,
        frequency_penalty=body.frequency_penalty,
        presence_penalty=body.presence_penalty,
    )


async def create_completion(request: Request) -> ASGIApp:
    state = services(request)
    body = decode_json(await read_json_body(request, state.settings.max_body_bytes), _DECODER, "completions")
    refuse_what_cannot_be_honoured(body)
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    if not prompts:
        raise InvalidRequestError("[prompt] must not be empty", param="prompt")
    if body.n is not None and body.n != 1:
        raise InvalidRequestError(f"[n] must be 1: one answer per prompt, got [{body.n}]", param="n")
    if body.stream and len(prompts) != 1:
        raise InvalidRequestError("[prompt] must be a single string when streaming", param="prompt")
    authorize_endpoint(request, INFER_BY_MODEL, body.model)
    target = await resolve_model(state.inference, body.model, TaskType.COMPLETION)
    config = with_user(state.inference, target, body.user)
    deadline = request_deadline(request, state.inference.deadline(TaskType.COMPLETION, None))
    if body.stream:
        chunks = _text_chunks(state.inference.stream_chat(target, _chat(body, prompts[0]), config))
        return EventStreamResponse(
            chunks,
            render_error=render_stream_error,
            deadline=deadline,
            idle_s=state.settings.stream_idle_timeout,
            framing=OPENAI_FRAMING,
        )

    async def one(prompt: str) -> Any:
        return await aggregate_chat(state.inference.stream_chat(target, _chat(body, prompt), config))

    answers = await within(deadline, gather(one(p) for p in prompts))
    choices = [
        {
            "text": a.choices[0].message.content or "",
            "index": i,
            "logprobs": None,
            "finish_reason": a.choices[0].finish_reason,
        }
        for i, a in enumerate(answers)
    ]
    answer: dict[str, Any] = {
        "id": answers[0].id,
        "object": "text_completion",
        "created": answer_created(),
        "model": answers[0].model,
        "choices": choices,
    }
    usages = [a.usage for a in answers if a.usage is not None]
    if len(usages) == len(answers):
        prompt_tokens = sum(u.prompt_tokens for u in usages)
        completion_tokens = sum(u.completion_tokens for u in usages)
        answer["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return json_response(answer)


async def _text_chunks(chunks: ChunkStream) -> AsyncGenerator[list[bytes], None]:
    """Each chunk's text as a ``text_completion`` chunk (usage-only chunks are not part of it);
    ``created`` is taken when the first chunk is there, so a cached answer keeps its own."""
    encode = _ENCODER.encode
    created = 0
    try:
        async for batch in chunks:
            created = created or answer_created()
            frames = [
                encode(
                    {
                        "id": chunk.id,
                        "object": "text_completion",
                        "created": created,
                        "model": chunk.model,
                        "choices": [
                            {
                                "text": c.delta.content or "",
                                "index": c.index,
                                "logprobs": None,
                                "finish_reason": c.finish_reason,
                            }
                            for c in chunk.choices
                        ],
                    }
                )
                for chunk in batch
                if chunk.choices and any(c.delta.content or c.finish_reason for c in chunk.choices)
            ]
            if frames:
                yield frames
    finally:
        await chunks.aclose()
