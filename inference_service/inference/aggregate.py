"""A chat stream put together into one answer: what non-streaming chat and completion return.

Every part of the deltas is kept, not only the text: content and refusal are concatenated;
tool calls are merged by their ``index`` (the first delta of a call brings its id, type and
name, later ones append to its arguments); the last ``finish_reason`` of a choice wins; the
usage chunk's counts are the answer's usage; id and model come from the first chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inference_service.model.chat import (
    AssistantReply,
    ChatCompletion,
    ChatCompletionChunk,
    CompletionChoice,
    ReplyFunction,
    ReplyToolCall,
    ToolCallDelta,
    Usage,
)
from inference_service.providers.base import ChunkStream

OBJECT = "chat.completion"


@dataclass
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _ChoiceParts:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None

    def add_tool_call(self, delta: ToolCallDelta) -> None:
        parts = self.tool_calls.setdefault(delta.index, _ToolCallParts())
        if delta.id:
            parts.id = delta.id
        if delta.function is not None:
            if delta.function.name:
                parts.name = delta.function.name
            if delta.function.arguments:
                parts.arguments.append(delta.function.arguments)

    def reply(self) -> AssistantReply:
        calls = [
            ReplyToolCall(
                id=p.id, type="function", function=ReplyFunction(name=p.name, arguments="".join(p.arguments))
            )
            for _, p in sorted(self.tool_calls.items())
        ]
        return AssistantReply(
            role=self.role,
            content="".join(self.content) if self.content or not calls else None,
            refusal="".join(self.refusal) if self.refusal else None,
            tool_calls=calls or None,
        )


class ChatAggregator:
    """Feed it every chunk of a stream, in order; :meth:`result` is the whole answer."""

    def __init__(self) -> None:
        self._id = ""
        self._model = ""
        self._choices: dict[int, _ChoiceParts] = {}
        self._usage: Usage | None = None

    def feed(self, chunk: ChatCompletionChunk) -> None:
        if not self._id:
            self._id, self._model = chunk.id, chunk.model
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            parts = self._choices.setdefault(choice.index, _ChoiceParts())
            delta = choice.delta
            if delta.role:
                parts.role = delta.role
            if delta.content:
                parts.content.append(delta.content)
            if delta.refusal:
                parts.refusal.append(delta.refusal)
            for call in delta.tool_calls or ():
                parts.add_tool_call(call)
            if choice.finish_reason is not None:
                parts.finish_reason = choice.finish_reason

    def result(self) -> ChatCompletion:
        choices = self._choices or {0: _ChoiceParts()}
        return ChatCompletion(
            id=self._id,
            choices=[
                CompletionChoice(index=i, message=p.reply(), finish_reason=p.finish_reason)
                for i, p in sorted(choices.items())
            ],
            model=self._model,
            object=OBJECT,
            usage=self._usage,
        )


async def aggregate_chat(chunks: ChunkStream) -> ChatCompletion:
    """Consume ``chunks`` to the end (closing it whatever happens) into one answer."""
    aggregator = ChatAggregator()
    try:
        async for batch in chunks:
            for chunk in batch:
                aggregator.feed(chunk)
    finally:
        await chunks.aclose()
    return aggregator.result()
