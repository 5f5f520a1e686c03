"""``response_format: json_schema`` with ``strict: true``, on a non-streaming chat: the answer is
checked before the client sees it.

Providers promise structured output in different strengths (OpenAI's strict mode constrains
decoding, Anthropic's forced tool and DeepSeek's JSON mode only steer the model), so the
service checks what ``strict`` promises the client, once, for every provider: each choice's
content must decode as JSON and validate against the schema
(:mod:`inference_service.model.json_schema`). An answer that does not is the provider's
failure: a 502 :class:`~inference_service.errors.StructuredOutputError` naming the first
violation (its JSON path and the validator's message).

Not checked, because they are not content: a choice that calls tools, and a refusal (OpenAI's
structured outputs answer ``refusal`` instead of content when the model declines).

Streams cannot be checked: their chunks are already on the wire before the content is whole.
On ``_stream`` and ``stream: true``, ``strict`` is only what the provider enforces.
"""

from __future__ import annotations

import msgspec

from inference_service.errors import StructuredOutputError
from inference_service.model.chat import ChatCompletion, JsonSchema
from inference_service.model.json_schema import first_violation, validator
from inference_service.model.nesting import MAX_NESTING, nesting_exceeds


def check_strict_output(answer: ChatCompletion, spec: JsonSchema, inference_id: str) -> None:
    """Raise :class:`StructuredOutputError` unless every choice's content matches ``spec``."""
    check = validator(spec.schema) if spec.schema is not None else None
    for choice in answer.choices:
        message = choice.message
        if message.tool_calls or (message.refusal and not message.content):
            continue
        where = f"The answer of [{inference_id}] does not match its strict [response_format] [{spec.name}]"
        cut = " (it was cut off: finish_reason [length])" if choice.finish_reason == "length" else ""
        try:
            value = msgspec.json.decode(message.content or "")
        except msgspec.DecodeError as exc:
            raise StructuredOutputError(f"{where}: the content is not JSON{cut}: {exc}") from None
        if nesting_exceeds(value, MAX_NESTING):
            raise StructuredOutputError(f"{where}: the content nests deeper than {MAX_NESTING} levels")
        problem = first_violation(check, value) if check is not None else None
        if problem is not None:
            raise StructuredOutputError(f"{where}: {problem}")
