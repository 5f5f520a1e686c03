"""The SDK's response types: msgspec Structs, decoded straight from the service's JSON.

Decoding is lenient on purpose (unknown fields are ignored, unlike the service's strict
request Structs): a newer service or Elasticsearch itself may add fields, and an SDK must not
break on them. :class:`ChatMessage` is the one type that also goes out: ``messages`` may mix
plain dicts and ``ChatMessage`` objects, and an answer's ``choices[0].message`` can be appended
to the conversation as it is.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "ChatCompletion",
    "ChatMessage",
    "Choice",
    "Completion",
    "Embedding",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "Endpoint",
    "FunctionCall",
    "FunctionCallDelta",
    "RerankResponse",
    "RerankResult",
    "SparseEmbedding",
    "SparseEmbeddingResponse",
    "StreamChunk",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base: keyword-only, and encoded without the fields left at their default (so a
    ``ChatMessage`` sends no ``"tool_calls": null`` the service would have to accept)."""


class FunctionCall(_Wire):
    """The function a tool call invokes."""

    name: str
    arguments: str
    """The arguments as the model wrote them: a JSON text (parse it with ``json.loads``)."""


class ToolCall(msgspec.Struct, kw_only=True):
    """A tool call of an assistant message (``id`` is what the tool message answers).

    Not a ``_Wire``: ``type`` is always written, as the service requires it even though
    ``"function"`` is the only value (``omit_defaults`` would drop it)."""

    id: str
    function: FunctionCall
    type: str = "function"


class ChatMessage(_Wire):
    """One message of a conversation: ``role`` is ``system``, ``user``, ``assistant`` or
    ``tool``; ``content`` a string or a list of content parts (``{"type": "text", ...}``);
    ``tool_calls`` on assistant messages; ``tool_call_id`` on the tool message answering one."""

    role: str
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class Usage(_Wire):
    """Token counts of a chat answer."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Choice(_Wire):
    """One answer of a :class:`ChatCompletion` (the service forces one per request)."""

    message: ChatMessage
    finish_reason: str | None = None
    index: int = 0


class ChatCompletion(_Wire):
    """A whole chat answer (OpenAI's ``chat.completion`` shape). ``created`` is None when the
    server does not send it (the Elasticsearch face does not)."""

    id: str
    model: str
    choices: list[Choice]
    created: int | None = None
    object: str = "chat.completion"
    usage: Usage | None = None

    @property
    def content(self) -> str | None:
        """The first choice's text (None for an answer that is only tool calls)."""
        return _text(self.choices[0].message.content) if self.choices else None

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The first choice's tool calls ([] when it made none)."""
        return (self.choices[0].message.tool_calls or []) if self.choices else []

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if self.choices else None


def _text(content: str | list[dict[str, Any]] | None) -> str | None:
    """A message's text: its string, or its text parts joined."""
    if content is None or isinstance(content, str):
        return content
    return "".join(part["text"] for part in content if part.get("type") == "text" and "text" in part)


class FunctionCallDelta(_Wire):
    """A piece of a streamed function call."""

    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(_Wire):
    """A piece of a streamed tool call: the first piece of call ``index`` brings its ``id``,
    ``type`` and ``function.name``, later ones append to ``function.arguments``."""

    index: int
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class StreamChunk(_Wire):
    """One piece of a streamed answer (one choice of one chunk).

    ``content`` is never None: ``""`` when the piece carries no text (a role, a tool call
    delta, the finish reason, or the usage chunk that ends a chat stream). ``id`` and ``model``
    are the chat chunk's; a completion stream has neither (None).
    """

    content: str = ""
    id: str | None = None
    model: str | None = None
    role: str | None = None
    finish_reason: str | None = None
    index: int = 0
    tool_calls: list[ToolCallDelta] = msgspec.field(default_factory=list)
    usage: Usage | None = None


class Completion(_Wire):
    """A completion answer; ``model`` is the inference endpoint that answered."""

    content: str
    model: str
    usage: Usage | None = None


class EmbeddingUsage(_Wire):
    """Token counts of an embedding call (when the server reports them)."""

    prompt_tokens: int
    total_tokens: int


class Embedding(_Wire):
    """One dense vector; ``index`` is its input's position."""

    embedding: list[float]
    """The vector (``byte``/``bit`` endpoints send integers; they arrive as floats)."""
    index: int


class EmbeddingResponse(_Wire):
    """Dense vectors, one per input; ``model`` is the inference endpoint."""

    model: str
    data: list[Embedding]
    usage: EmbeddingUsage | None = None

    @property
    def embeddings(self) -> list[list[float]]:
        """The vectors, one per input in input order."""
        return [item.embedding for item in self.data]


class SparseEmbedding(_Wire):
    """One token -> weight map; ``index`` is its input's position."""

    embedding: dict[str, float]
    index: int
    is_truncated: bool = False


class SparseEmbeddingResponse(_Wire):
    """Sparse vectors, one per input; ``model`` is the inference endpoint."""

    model: str
    data: list[SparseEmbedding]

    @property
    def embeddings(self) -> list[dict[str, float]]:
        """Token -> weight maps, one per input in input order."""
        return [item.embedding for item in self.data]


class RerankResult(_Wire):
    """One ranked document."""

    index: int
    """The document's position in the request's ``documents``."""
    relevance_score: float
    document: str | None = None
    """The document's text, with ``return_documents=True``."""


class RerankResponse(_Wire):
    """Ranked documents; ``model`` is the inference endpoint."""

    model: str
    results: list[RerankResult]
    """Best first."""


class Endpoint(_Wire):
    """An inference endpoint as the service shows it: never its secrets."""

    inference_id: str
    task_type: str
    service: str
    service_settings: dict[str, Any]
    task_settings: dict[str, Any] = msgspec.field(default_factory=dict)
    chunking_settings: dict[str, Any] | None = None
    cache: dict[str, Any] | None = None
    """The response cache's settings (``{"ttl": "10m"}``); None: answers are not cached."""
