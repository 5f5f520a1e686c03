"""OpenAI chat parameters no provider of ours honours, accepted only at their neutral value.

Some clients send every parameter with its default (``"frequency_penalty": 0``,
``"presence_penalty": 0``, ``"logprobs": false``...), and OpenAI reads ``null`` as "not given".
A neutral value asks for nothing, so nothing is dropped by accepting it; any other value asks
for something none of our providers does for every endpoint, and is a 400 naming the field,
never dropped:

=====================  ==========================
field                  accepted
=====================  ==========================
``frequency_penalty``  ``null``, ``0``
``presence_penalty``   ``null``, ``0``
``logprobs``           ``null``, ``false``
``top_logprobs``       ``null``, ``0``
``logit_bias``         ``null``, ``{}``
``store``              ``null``, ``false``
``modalities``         ``null``, ``["text"]``
``audio``              ``null``
=====================  ==========================

Every other field the request does not declare stays an unknown field (400).
"""

from __future__ import annotations

from typing import Any

from inference_service.errors import InvalidRequestError
from inference_service.model.chat import StrictStruct


class NeutralParameters(StrictStruct):
    """The fields of the table above; the chat body inherits them."""

    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    store: bool | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None


def refuse_what_cannot_be_honoured(body: NeutralParameters) -> None:
    """A 400 naming the first field of the table that asks for more than its neutral value."""
    checks: tuple[tuple[str, Any, bool, str], ...] = (
        ("frequency_penalty", body.frequency_penalty, body.frequency_penalty in (None, 0), "0"),
        ("presence_penalty", body.presence_penalty, body.presence_penalty in (None, 0), "0"),
        ("logprobs", body.logprobs, body.logprobs in (None, False), "false"),
        ("top_logprobs", body.top_logprobs, body.top_logprobs in (None, 0), "0"),
        ("logit_bias", body.logit_bias, not body.logit_bias, "{}"),
        ("store", body.store, body.store in (None, False), "false"),
        ("modalities", body.modalities, body.modalities in (None, ["text"]), '["text"]'),
        ("audio", body.audio, body.audio is None, "null"),
    )
    for name, value, neutral, accepted in checks:
        if not neutral:
            raise InvalidRequestError(
                f"[{name}] cannot be honoured: no provider of this service applies it (got "
                f"[{_shown(value)}]; leave it out, or send null or {accepted})",
                param=name,
            )


def _shown(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 64 else text[:61] + "..."
