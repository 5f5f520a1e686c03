"""What a custom completion takes of the unified request (inference_service.providers.custom.provider)."""

from __future__ import annotations

from typing import Any

import pytest

from inference_service.errors import UnsupportedError
from inference_service.model.chat import (
    ChatCompletionRequest,
    JsonObjectFormat,
    Message,
    TextFormat,
    UserMessage,
)
from inference_service.providers.custom.provider import _prompt

HI: list[Message] = [UserMessage(content="hi")]


def test_the_prompt_is_the_one_user_message() -> None:
    assert _prompt(ChatCompletionRequest(messages=HI, response_format=TextFormat())) == "hi"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ChatCompletionRequest(messages=HI, response_format=JsonObjectFormat()), "response_format"),
        (ChatCompletionRequest(messages=HI, seed=1), "seed"),
    ],
)
def test_what_a_template_cannot_carry_is_refused(request_: ChatCompletionRequest, field: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        _prompt(request_)
    assert caught.value.param == field
    assert caught.value.reason == f"[{field}] is not supported by the [custom] service"


def penalty(field: str, value: float) -> dict[str, Any]:
    return {field: value}


@pytest.mark.parametrize("field", ["frequency_penalty", "presence_penalty"])
def test_a_penalty_is_refused_unless_0(field: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        _prompt(ChatCompletionRequest(messages=HI, **penalty(field, 0.5)))
    assert caught.value.param == field
    assert caught.value.reason == (
        f"[{field}] is not supported by the [custom] service (got [0.5]; leave it out, or send 0)"
    )
    assert _prompt(ChatCompletionRequest(messages=HI, **penalty(field, 0.0))) == "hi"
