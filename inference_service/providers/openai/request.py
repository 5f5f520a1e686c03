"""Unified chat request -> OpenAI Chat Completions request body (pure).

The unified schema *is* the OpenAI schema, so translation is mostly additive. Deviations, each
as Elasticsearch makes them (``OpenAiUnifiedChatCompletionRequestEntity``):

- ``stream: true``, ``n: 1`` and ``stream_options.include_usage: true`` are always sent, so the
  last chunk carries token usage.
- ``model`` comes from the request if given, else from the endpoint's model setting; services
  whose URL names the model (Azure deployments) send none.
- ``max_completion_tokens`` is renamed for services that still take ``max_tokens``.
- ``task_settings.user`` becomes ``user``.
- ``reasoning.effort`` becomes ``reasoning_effort``; the other ``reasoning`` fields have no
  OpenAI equivalent and are rejected rather than dropped silently.

``response_format``, ``seed`` and ``parallel_tool_calls`` go as the service's :class:`Dialect`
says (each OpenAI-compatible service takes a different subset):

- a ``response_format`` type the service lacks is a 400 naming ``response_format``; with
  ``tgi_grammar`` (Text Generation Inference) the JSON types become TGI's grammar
  ``{"type": "json", "value": <schema>}`` (``{"type": "object"}`` for ``json_object``, which
  TGI cannot express without a schema) and ``text``, TGI's default, is sent as nothing;
- ``seed`` is renamed (Mistral's ``random_seed``), or a 400 where the service has none;
- ``parallel_tool_calls: false`` is a 400 where the service has no such switch; ``true`` only
  *allows* several calls in one answer, which such a service is free to do anyway, so it is
  not sent.

``frequency_penalty`` and ``presence_penalty`` go as they are: every service of the family
(OpenAI, Azure OpenAI, Mistral, DeepSeek, Text Generation Inference) takes both under these
names and in OpenAI's range, [-2, 2], which the unified request enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from inference_service.errors import UnsupportedError
from inference_service.model.chat import ChatCompletionRequest

_ENCODER = msgspec.json.Encoder()
ALL_FORMATS = frozenset({"text", "json_object", "json_schema"})
_OBJECT_SCHEMA = {"type": "object"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """What a service's chat API takes of the optional unified fields."""

    response_formats: frozenset[str] = ALL_FORMATS
    seed_field: str | None = "seed"
    """The name of the sampling seed, or None when the service takes none."""
    parallel_tool_calls: bool = True
    """Whether the service takes ``parallel_tool_calls``."""
    tgi_grammar: bool = False
    """JSON formats as Text Generation Inference's grammar (``type: json`` + ``value``)."""


OPENAI = Dialect()


def to_openai_request(
    request: ChatCompletionRequest,
    *,
    service: str,
    model: str | None,
    send_model: bool = True,
    max_tokens_field: str = "max_completion_tokens",
    user: str | None = None,
    dialect: Dialect = OPENAI,
) -> bytes:
    """The JSON body to POST, encoded once. ``model`` is the endpoint's upstream model."""
    body: dict[str, Any] = msgspec.to_builtins(request)
    if (
        request.response_format is not None
        or request.seed is not None
        or request.parallel_tool_calls is not None
    ):
        _apply_dialect(body, dialect, service)
    chosen = body.pop("model", None) or model
    if send_model and chosen:
        body["model"] = chosen
    if max_tokens_field != "max_completion_tokens" and "max_completion_tokens" in body:
        body[max_tokens_field] = body.pop("max_completion_tokens")
    reasoning = body.pop("reasoning", None)
    if reasoning:
        unsupported = sorted(set(reasoning) - {"effort"})
        if unsupported:
            raise UnsupportedError(
                f"reasoning fields {unsupported} are not supported by the [{service}] service",
                param="reasoning",
            )
        body["reasoning_effort"] = reasoning["effort"]
    if user:
        body["user"] = user
    body["n"] = 1
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    return _ENCODER.encode(body)


def _apply_dialect(body: dict[str, Any], dialect: Dialect, service: str) -> None:
    """``response_format``, ``seed`` and ``parallel_tool_calls`` as ``dialect`` takes them."""
    fmt = body.pop("response_format", None)
    if fmt is not None:
        kind = fmt["type"]
        if kind not in dialect.response_formats:
            raise UnsupportedError(
                f"[response_format] type [{kind}] is not supported by the [{service}] service; "
                f"it takes [{', '.join(sorted(dialect.response_formats))}]",
                param="response_format",
            )
        if not dialect.tgi_grammar:
            body["response_format"] = fmt
        elif kind != "text":
            schema = fmt.get("json_schema", {}).get("schema") or _OBJECT_SCHEMA
            body["response_format"] = {"type": "json", "value": schema}
    if "seed" in body and dialect.seed_field != "seed":
        if dialect.seed_field is None:
            raise UnsupportedError(f"[seed] is not supported by the [{service}] service", param="seed")
        body[dialect.seed_field] = body.pop("seed")
    if not dialect.parallel_tool_calls and body.pop("parallel_tool_calls", None) is False:
        raise UnsupportedError(
            f"[parallel_tool_calls] false is not supported by the [{service}] service: it may "
            "call several tools in one answer",
            param="parallel_tool_calls",
        )
