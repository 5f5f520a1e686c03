"""The messages of a ``/v1/chat/completions`` body, as the unified request takes them.

OpenAI's message shapes beyond the unified (Elasticsearch) ones:

- ``developer`` messages are system messages;
- an ``assistant`` message may carry ``refusal``: the text of an answer the model refused to
  give, as the service returns it in ``choices[].message``. Sending an answer back in the
  history (``messages.append(resp.choices[0].message)``) is common, so it is accepted, and the
  refusal becomes the message's text (after any content): the provider sees what the model
  said, none of it is dropped.
"""

from __future__ import annotations

from inference_service.model.chat import (
    AssistantMessage,
    Content,
    Message,
    StrictStruct,
    SystemMessage,
    TextPart,
    ToolCall,
    ToolMessage,
    UserMessage,
)


class DeveloperMessage(StrictStruct, tag_field="role", tag="developer"):
    content: Content | None = None


class OpenAiAssistantMessage(StrictStruct, tag_field="role", tag="assistant"):
    content: Content | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


OpenAiMessage = SystemMessage | DeveloperMessage | UserMessage | OpenAiAssistantMessage | ToolMessage


def unified_message(message: OpenAiMessage) -> Message:
    if isinstance(message, DeveloperMessage):
        return SystemMessage(content=message.content)
    if isinstance(message, OpenAiAssistantMessage):
        return AssistantMessage(content=_with_refusal(message), tool_calls=message.tool_calls)
    return message


def _with_refusal(message: OpenAiAssistantMessage) -> Content | None:
    content, refusal = message.content, message.refusal
    if not refusal:
        return content
    if not content:
        return refusal
    if isinstance(content, str):
        return f"{content}\n\n{refusal}"
    return [*content, TextPart(text=refusal)]
