"""OpenAI parameters no provider of ours honours, accepted only at their neutral value.

Some clients send every parameter with its default (``"logprobs": null``, ``"logit_bias": {}``...;
LangChain's ``OpenAI`` completions class does), and OpenAI reads ``null`` as "not given". A
neutral value asks for nothing, so nothing is dropped by accepting it; any other value asks for
something none of our providers does, and is a 400 naming the field, never dropped:

=====================  ========================  ===================
field                  ``/v1/chat/completions``  ``/v1/completions``
=====================  ========================  ===================
``logprobs``           ``null``, ``false``       ``null``
``top_logprobs``       ``null``, ``0``           -
``logit_bias``         ``null``, ``{}``          ``null``, ``{}``
``store``              ``null``, ``false``       -
``modalities``         ``null``, ``["text"]``    -
``audio``              ``null``                  -
``echo``               -                         ``null``, ``false``
``best_of``            -                         ``null``, ``1``
``suffix``             -                         ``null``
=====================  ========================  ===================

Every other field a body does not declare stays an unknown field (400). (``frequency_penalty``
and ``presence_penalty`` are not here: they are the unified request's own, passed on by the
providers that take them.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inference_service.errors import InvalidRequestError
from inference_service.model.chat import StrictStruct


class NeutralParameters(StrictStruct):
    """The chat column of the table above; the chat body inherits them."""

    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    store: bool | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None


class NeutralCompletionParameters(StrictStruct):
    """The legacy completions column; the completions body inherits them."""

    logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    echo: bool | None = None
    best_of: int | None = None
    suffix: str | None = None


Neutral = Callable[[Any], bool]
_ZERO: tuple[Neutral, str] = (lambda v: v == 0, "0")
_FALSE: tuple[Neutral, str] = (lambda v: v is False, "false")
_EMPTY: tuple[Neutral, str] = (lambda v: v == {}, "{}")
_NULL_ONLY: tuple[Neutral, str] = (lambda v: False, "")
_CHAT: dict[str, tuple[Neutral, str]] = {
    "logprobs": _FALSE,
    "top_logprobs": _ZERO,
    "logit_bias": _EMPTY,
    "store": _FALSE,
    "modalities": (lambda v: v == ["text"], '["text"]'),
    "audio": _NULL_ONLY,
}
_COMPLETIONS: dict[str, tuple[Neutral, str]] = {
    "logprobs": _NULL_ONLY,  # a number here: any number asks for log probabilities
    "logit_bias": _EMPTY,
    "echo": _FALSE,
    "best_of": (lambda v: v == 1, "1"),
    "suffix": _NULL_ONLY,
}
"""Each field's neutral value besides null, as a test and as shown in the message."""


def refuse_what_cannot_be_honoured(body: NeutralParameters | NeutralCompletionParameters) -> None:
    """A 400 naming the first field of the table that asks for more than its neutral value."""
    table = _CHAT if isinstance(body, NeutralParameters) else _COMPLETIONS
    for name, (neutral, shown) in table.items():
        value = getattr(body, name)
        if value is not None and not neutral(value):
            accepted = f"null or {shown}" if shown else "null"
            raise InvalidRequestError(
                f"[{name}] cannot be honoured: no provider behind this service applies it (got "
                f"[{_shown(value)}]; leave it out, or send {accepted})",
                param=name,
            )


def _shown(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 64 else text[:61] + "..."
