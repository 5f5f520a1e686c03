"""What each SDK method sends and how its answer is read: pure functions, shared by the sync
and the async client (which only move the bytes).

Every call speaks the Elasticsearch face (``/_inference/{task_type}/{id}``), so it works against
this service and against Elasticsearch itself. The SDK's names map onto it as follows:

- ``model`` / ``inference_id`` name the inference endpoint (the path), never a body field;
- chat: ``max_tokens`` is the unified request's ``max_completion_tokens``; ``stop`` may be one
  string; ``**extra`` adds further body fields as they are (``seed``, ``reasoning``...), and the
  service refuses unknown ones with a 400 rather than dropping them;
- completion: ``max_tokens`` and ``temperature`` are sent as the request's ``task_settings``,
  which the endpoint's service must know (llama.cpp and Anthropic do; OpenAI's completion
  task settings do not, and the service says so with a 400);
- embeddings: the answer's ``text_embedding`` (or ``_bytes`` / ``_bits``) list, indexed;
- rerank: ``documents`` is the body's ``input``; the answer's ``text`` is ``document``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import msgspec

from inference_service.client.types import (
    ChatCompletion,
    ChatMessage,
    Completion,
    Embedding,
    EmbeddingResponse,
    RerankResponse,
    RerankResult,
    SparseEmbedding,
    SparseEmbeddingResponse,
)

T = TypeVar("T")
StreamKind = Literal["chat", "completion"]
Message = Mapping[str, Any] | ChatMessage

encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One HTTP request of a call. ``deadline_param``: send the call's remaining time as the
    ``timeout`` query parameter, so the service stops waiting for its provider in time."""

    method: str
    path: str
    body: bytes | None = None
    deadline_param: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Request, Generic[T]):
    """A call answered by one JSON document, read by ``parse``."""

    parse: Callable[[bytes], T]


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamCall(Request):
    """A call answered by an event stream of ``kind`` chunks from endpoint ``model``."""

    kind: StreamKind
    model: str


def endpoint_id(model: str | None, inference_id: str | None) -> str:
    """``model`` and ``inference_id`` are two names for the endpoint: one is required."""
    if model is None and inference_id is None:
        raise TypeError("name the inference endpoint: model=... (or inference_id=...)")
    if model is not None and inference_id is not None and model != inference_id:
        raise ValueError(f"model [{model}] and inference_id [{inference_id}] name different endpoints")
    chosen = model if model is not None else inference_id
    if not isinstance(chosen, str) or not chosen:
        raise TypeError(f"the inference endpoint must be a non-empty string, got {chosen!r}")
    return chosen


def api_path(*segments: str) -> str:
    return "/_inference/" + "/".join(quote(s, safe="") for s in segments)


def strict_decoder(cls: type[T]) -> Callable[[bytes], T]:
    return msgspec.json.Decoder(cls).decode


def set_given(body: dict[str, Any], name: str, value: Any) -> None:
    if value is not None:
        body[name] = value


# --- chat ----------------------------------------------------------------------------------


def chat_body(
    messages: Sequence[Message],
    *,
    max_tokens: int | None,
    temperature: float | None,
    top_p: float | None,
    stop: str | Sequence[str] | None,
    tools: Sequence[Mapping[str, Any]] | None,
    tool_choice: str | Mapping[str, Any] | None,
    response_format: Mapping[str, Any] | None,
    extra: Mapping[str, Any],
) -> bytes:
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of dicts or ChatMessage objects")
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping | ChatMessage):
            raise TypeError(f"messages[{i}] must be a dict or a ChatMessage, got {type(message).__name__}")
    if max_tokens is not None and "max_completion_tokens" in extra:
        raise ValueError("give max_tokens or max_completion_tokens, not both")
    body: dict[str, Any] = {"messages": [m if isinstance(m, ChatMessage) else dict(m) for m in messages]}
    set_given(body, "max_completion_tokens", max_tokens)
    set_given(body, "temperature", temperature)
    set_given(body, "top_p", top_p)
    set_given(body, "stop", [stop] if isinstance(stop, str) else None if stop is None else list(stop))
    set_given(body, "tools", None if tools is None else [dict(t) for t in tools])
    set_given(
        body,
        "tool_choice",
        tool_choice if tool_choice is None or isinstance(tool_choice, str) else dict(tool_choice),
    )
    set_given(body, "response_format", None if response_format is None else dict(response_format))
    body.update(extra)
    return encode(body)


_CHAT = strict_decoder(ChatCompletion)


def chat(inference_id: str, body: bytes) -> Call[ChatCompletion]:
    return Call(
        method="POST",
        path=api_path("chat_completion", inference_id),
        body=body,
        deadline_param=True,
        parse=_CHAT,
    )


def chat_stream(inference_id: str, body: bytes) -> StreamCall:
    return StreamCall(
        method="POST",
        path=api_path("chat_completion", inference_id, "_stream"),
        body=body,
        deadline_param=True,
        kind="chat",
        model=inference_id,
    )


# --- completion ----------------------------------------------------------------------------


class _CompletionResult(msgspec.Struct):
    result: str


class _CompletionAnswer(msgspec.Struct):
    completion: list[_CompletionResult]


_COMPLETION = strict_decoder(_CompletionAnswer)


def completion_body(prompt: str, max_tokens: int | None, temperature: float | None) -> bytes:
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}")
    body: dict[str, Any] = {"input": prompt}
    settings: dict[str, Any] = {}
    set_given(settings, "max_tokens", max_tokens)
    set_given(settings, "temperature", temperature)
    if settings:
        body["task_settings"] = settings
    return encode(body)


def completion(inference_id: str, body: bytes) -> Call[Completion]:
    def parse(data: bytes) -> Completion:
        answer = _COMPLETION(data)
        if len(answer.completion) != 1:
            raise msgspec.ValidationError(f"expected one completion result, got {len(answer.completion)}")
        return Completion(content=answer.completion[0].result, model=inference_id)

    return Call(
        method="POST", path=api_path("completion", inference_id), body=body, deadline_param=True, parse=parse
    )


def completion_stream(inference_id: str, body: bytes) -> StreamCall:
    return StreamCall(
        method="POST",
        path=api_path("completion", inference_id, "_stream"),
        body=body,
        deadline_param=True,
        kind="completion",
        model=inference_id,
    )


# --- embeddings and rerank -----------------------------------------------------------------


def _inputs(input: str | Sequence[str], name: str = "input") -> str | list[str]:
    if isinstance(input, str):
        return input
    if isinstance(input, bytes) or not isinstance(input, Sequence):
        raise TypeError(f"{name} must be a string or a list of strings")
    items = list(input)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a string, got {type(item).__name__}")
    return items


class _Vector(msgspec.Struct):
    embedding: list[float]


class _DenseAnswer(msgspec.Struct):
    text_embedding: list[_Vector] | None = None
    text_embedding_bytes: list[_Vector] | None = None
    text_embedding_bits: list[_Vector] | None = None


_DENSE = strict_decoder(_DenseAnswer)


def embedding(
    inference_id: str, input: str | Sequence[str], input_type: str | None
) -> Call[EmbeddingResponse]:
    body: dict[str, Any] = {"input": _inputs(input)}
    set_given(body, "input_type", input_type)

    def parse(data: bytes) -> EmbeddingResponse:
        answer = _DENSE(data)
        vectors = answer.text_embedding or answer.text_embedding_bytes or answer.text_embedding_bits
        if vectors is None:
            raise msgspec.ValidationError("the answer holds no text_embedding list")
        items = [Embedding(embedding=v.embedding, index=i) for i, v in enumerate(vectors)]
        return EmbeddingResponse(model=inference_id, data=items)

    return Call(
        method="POST",
        path=api_path("text_embedding", inference_id),
        body=encode(body),
        deadline_param=True,
        parse=parse,
    )


class _Sparse(msgspec.Struct):
    embedding: dict[str, float]
    is_truncated: bool = False


class _SparseAnswer(msgspec.Struct):
    sparse_embedding: list[_Sparse]


_SPARSE = strict_decoder(_SparseAnswer)


def sparse_embedding(inference_id: str, input: str | Sequence[str]) -> Call[SparseEmbeddingResponse]:
    def parse(data: bytes) -> SparseEmbeddingResponse:
        items = [
            SparseEmbedding(embedding=s.embedding, index=i, is_truncated=s.is_truncated)
            for i, s in enumerate(_SPARSE(data).sparse_embedding)
        ]
        return SparseEmbeddingResponse(model=inference_id, data=items)

    return Call(
        method="POST",
        path=api_path("sparse_embedding", inference_id),
        body=encode({"input": _inputs(input)}),
        deadline_param=True,
        parse=parse,
    )


class _Ranked(msgspec.Struct):
    index: int
    relevance_score: float
    text: str | None = None


class _RerankAnswer(msgspec.Struct):
    rerank: list[_Ranked]


_RERANK = strict_decoder(_RerankAnswer)


def rerank(
    inference_id: str, query: str, documents: Sequence[str], top_n: int | None, return_documents: bool
) -> Call[RerankResponse]:
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, got {type(query).__name__}")
    if isinstance(documents, str):
        raise TypeError("documents must be a list of strings, not one string")
    body: dict[str, Any] = {"query": query, "input": _inputs(documents, "documents")}
    set_given(body, "top_n", top_n)
    if return_documents:
        body["return_documents"] = True

    def parse(data: bytes) -> RerankResponse:
        results = [
            RerankResult(index=r.index, relevance_score=r.relevance_score, document=r.text)
            for r in _RERANK(data).rerank
        ]
        return RerankResponse(model=inference_id, results=results)

    return Call(
        method="POST",
        path=api_path("rerank", inference_id),
        body=encode(body),
        deadline_param=True,
        parse=parse,
    )
