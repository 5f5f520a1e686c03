"""``frequency_penalty`` and ``presence_penalty`` where a service has no such sampling knob.

A penalty of 0 (OpenAI's default) asks for nothing, so it is accepted and not sent; any other
value is a 400 naming the field, never dropped.
"""

from __future__ import annotations

from inference_service.errors import UnsupportedError
from inference_service.model.chat import PENALTIES, ChatCompletionRequest


def refuse_penalties(request: ChatCompletionRequest, service: str) -> None:
    """A 400 naming the first penalty ``request`` sets to something other than 0."""
    for name in PENALTIES:
        value = getattr(request, name)
        if value:
            raise UnsupportedError(
                f"[{name}] is not supported by the [{service}] service (got [{value}]; leave it "
                "out, or send 0)",
                param=name,
            )
