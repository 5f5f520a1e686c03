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
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import UnsupportedError
from inference_service.model.chat import ChatCompletionRequest

_ENCODER = msgspec.json.Encoder()


def to_openai_request(
    request: ChatCompletionRequest,
    *,
    service: str,
    model: str | None,
    send_model: bool = True,
    max_tokens_field: str = "max_completion_tokens",
    user: str | None = None,
) -> bytes:
    """The JSON body to POST, encoded once. ``model`` is the endpoint's upstream model."""
    body: dict[str, Any] = msgspec.to_builtins(request)
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
