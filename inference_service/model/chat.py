"""The unified chat request (Elasticsearch's OpenAI-shaped ``chat_completion`` body) and its chunks.

Request rules. Decoding is strict (msgspec, through the one body decoder ``api/bodies.py``): an
unknown field, a wrong JSON type, a missing required field, or a value out of range is a 400
``x_content_parse_exception`` whose reason is msgspec's message with the JSON path
(``... - at `$.messages[0].role```):

- ``temperature`` in [0, 2], ``top_p`` in [0, 1], ``max_completion_tokens`` >= 1,
  ``frequency_penalty`` and ``presence_penalty`` in [-2, 2] (OpenAI's range);
- tool-call ``arguments`` must be a string; a tool's ``parameters`` must be a JSON object;
- ``role`` must be one of system, user, assistant, tool; content parts are ``text``,
  ``image_url`` or ``file``.

Then :func:`validate_chat_request` checks what Elasticsearch leaves to the provider, and
reports every violation in one 400 ``action_request_validation_exception``
("Validation Failed: 1: …;2: …;"), each naming its JSON path:

- ``messages`` must not be empty (Elasticsearch's own rule and wording);
- ``tool_choice`` strings must be ``auto``, ``none`` or ``required``;
- ``required`` or an object ``tool_choice`` needs ``tools``;
- an object ``tool_choice`` must name a function that is in ``tools``;
- tool names must be unique and match ``^[a-zA-Z0-9_-]{1,64}$``;
- a ``tool`` message's ``tool_call_id`` must answer an earlier assistant ``tool_calls`` id;
- an ``image_url`` part's URL is ``https`` or a base64 data URI
  (:mod:`inference_service.model.image_urls`);
- a tool's ``parameters`` may nest at most :data:`MAX_NESTING` levels (providers re-encode them);
- ``parallel_tool_calls`` needs ``tools`` (OpenAI's rule);
- a ``json_schema`` response format's ``name`` matches ``^[a-zA-Z0-9_-]{1,64}$`` and its
  ``schema`` nests at most :data:`MAX_NESTING` levels and is a valid JSON Schema of its draft
  (:mod:`inference_service.model.json_schema`).

``response_format``, ``seed``, ``frequency_penalty``, ``presence_penalty`` and
``parallel_tool_calls`` are extensions beyond Elasticsearch's unified request (which refuses them
as unknown fields); the OpenAI face carries them too. Each provider honours them or refuses them
with a 400; none drops them (a penalty of 0 asks for nothing, so every provider takes it).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from inference_service.errors import ActionValidationError, validation_failed
from inference_service.model.image_urls import image_url_problem
from inference_service.model.json_schema import schema_problem
from inference_service.model.nesting import MAX_NESTING, nesting_exceeds


class StrictStruct(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of request Structs.

    ``forbid_unknown_fields``: Elasticsearch rejects unknown fields (a typo must not be
    dropped silently). ``omit_defaults``: re-encoding a request (to build an OpenAI body)
    writes only what the client sent. ``kw_only``: fields can be declared in wire order.
    """


# --- request -------------------------------------------------------------------------------


class TextPart(StrictStruct, tag_field="type", tag="text"):
    text: str


class ImageUrl(StrictStruct):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(StrictStruct, tag_field="type", tag="image_url"):
    image_url: ImageUrl


class FileData(StrictStruct):
    file_data: str
    filename: str | None = None


class FilePart(StrictStruct, tag_field="type", tag="file"):
    file: FileData


ContentPart = TextPart | ImagePart | FilePart
Content = str | list[ContentPart]


class FunctionCall(StrictStruct):
    name: str
    arguments: str


class ToolCall(StrictStruct):
    id: str
    type: Literal["function"]
    function: FunctionCall


class SystemMessage(StrictStruct, tag_field="role", tag="system"):
    content: Content | None = None


class UserMessage(StrictStruct, tag_field="role", tag="user"):
    content: Content | None = None


class AssistantMessage(StrictStruct, tag_field="role", tag="assistant"):
    content: Content | None = None
    tool_calls: list[ToolCall] | None = None


class ToolMessage(StrictStruct, tag_field="role", tag="tool", kw_only=True):
    content: Content | None = None
    tool_call_id: str


Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage


class FunctionDefinition(StrictStruct):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(StrictStruct):
    type: Literal["function"]
    function: FunctionDefinition


class ToolChoiceFunction(StrictStruct):
    name: str


class ToolChoiceObject(StrictStruct):
    type: Literal["function"]
    function: ToolChoiceFunction


ReasoningEffort = Literal["xhigh", "high", "medium", "low", "minimal", "none"]


class Reasoning(StrictStruct):
    effort: ReasoningEffort | None = None
    enabled: bool | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    exclude: bool | None = None


class TextFormat(StrictStruct, tag_field="type", tag="text"):
    """Plain text: the default, what every provider does without ``response_format``."""


class JsonObjectFormat(StrictStruct, tag_field="type", tag="json_object"):
    """Any JSON value (OpenAI's JSON mode)."""


class JsonSchema(StrictStruct):
    name: str
    description: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


class JsonSchemaFormat(StrictStruct, tag_field="type", tag="json_schema"):
    """JSON matching ``json_schema.schema`` (OpenAI's structured outputs)."""

    json_schema: JsonSchema


ResponseFormat = TextFormat | JsonObjectFormat | JsonSchemaFormat
Penalty = Annotated[float, msgspec.Meta(ge=-2, le=2)]
"""``frequency_penalty`` and ``presence_penalty``: OpenAI's range; 0 is no penalty."""
PENALTIES = ("frequency_penalty", "presence_penalty")


class ChatCompletionRequest(StrictStruct):
    messages: list[Message]
    model: str | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    stop: list[str] | None = None
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | ToolChoiceObject | None = None
    reasoning: Reasoning | None = None
    response_format: ResponseFormat | None = None
    seed: int | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    parallel_tool_calls: bool | None = None

    @property
    def json_output(self) -> JsonObjectFormat | JsonSchemaFormat | None:
        """The JSON ``response_format`` asked for; None for text (or none)."""
        fmt = self.response_format
        return None if fmt is None or isinstance(fmt, TextFormat) else fmt

    def sampling(self, temperature: float | None, top_p: float | None) -> dict[str, float]:
        """``temperature`` and ``top_p``: the request's, else the given endpoint defaults;
        absent when neither sets them."""
        chosen = {
            "temperature": self.temperature if self.temperature is not None else temperature,
            "top_p": self.top_p if self.top_p is not None else top_p,
        }
        return {name: value for name, value in chosen.items() if value is not None}


TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""Tool names and ``json_schema`` names alike."""
TOOL_CHOICES = ("auto", "none", "required")


def validate_chat_request(request: ChatCompletionRequest) -> None:
    """The rules of the module docstring; one 400 lists every violation."""
    problems: list[tuple[str, str]] = []
    if not request.messages:
        problems.append(("$.messages", "Field [messages] cannot be an empty array"))
    names: set[str] = set()
    for i, tool in enumerate(request.tools or []):
        name = tool.function.name
        path = f"$.tools[{i}].function.name"
        if not TOOL_NAME.fullmatch(name):
            problems.append((path, f"[{path}] tool name [{name}] must match ^[a-zA-Z0-9_-]{{1,64}}$"))
        if name in names:
            problems.append((path, f"[{path}] duplicate tool name [{name}]"))
        names.add(name)
        if tool.function.parameters is not None and nesting_exceeds(tool.function.parameters, MAX_NESTING):
            path = f"$.tools[{i}].function.parameters"
            problems.append((path, f"[{path}] nests deeper than {MAX_NESTING} levels"))
    choice = request.tool_choice
    if isinstance(choice, str):
        if choice not in TOOL_CHOICES:
            problems.append(
                ("$.tool_choice", f"[$.tool_choice] must be one of [auto, none, required], got [{choice}]")
            )
        elif choice == "required" and not request.tools:
            problems.append(("$.tool_choice", "[$.tool_choice] is [required] but no [tools] were given"))
    elif choice is not None:
        path = "$.tool_choice.function.name"
        if not request.tools:
            problems.append(
                (path, f"[{path}] names function [{choice.function.name}] but no [tools] were given")
            )
        elif choice.function.name not in names:
            problems.append(
                (path, f"[{path}] names function [{choice.function.name}] which is not in [tools]")
            )
    if request.parallel_tool_calls is not None and not request.tools:
        problems.append(
            ("$.parallel_tool_calls", "[$.parallel_tool_calls] is only allowed when [tools] are given")
        )
    if isinstance(request.response_format, JsonSchemaFormat):
        problems += _json_schema_problems(request.response_format.json_schema)
    call_ids: set[str] = set()
    for i, message in enumerate(request.messages):
        for j, part in enumerate(message.content if isinstance(message.content, list) else []):
            problem = image_url_problem(part.image_url.url) if isinstance(part, ImagePart) else None
            if problem is not None:
                path = f"$.messages[{i}].content[{j}].image_url.url"
                problems.append((path, f"[{path}] {problem}"))
        if isinstance(message, AssistantMessage):
            call_ids.update(call.id for call in message.tool_calls or [])
        elif isinstance(message, ToolMessage) and message.tool_call_id not in call_ids:
            path = f"$.messages[{i}].tool_call_id"
            problems.append(
                (path, f"[{path}] [{message.tool_call_id}] answers no earlier assistant tool call")
            )
    if problems:
        raise ActionValidationError(
            validation_failed([message for _, message in problems]), param=problems[0][0]
        )


def _json_schema_problems(spec: JsonSchema) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    path = "$.response_format.json_schema.name"
    if not TOOL_NAME.fullmatch(spec.name):
        problems.append((path, f"[{path}] [{spec.name}] must match ^[a-zA-Z0-9_-]{{1,64}}$"))
    if spec.schema is None:
        return problems
    path = "$.response_format.json_schema.schema"
    if nesting_exceeds(spec.schema, MAX_NESTING):
        problems.append((path, f"[{path}] nests deeper than {MAX_NESTING} levels"))
    else:
        problem = schema_problem(spec.schema)
        if problem is not None:
            problems.append((path, f"[{path}] {problem}"))
    return problems


# --- stream chunks (output) ----------------------------------------------------------------
# Field order is the order Elasticsearch emits; None fields are omitted. Unknown fields are
# ignored, so an OpenAI chunk decodes straight into these and loses what ES drops
# (created, system_fingerprint, logprobs, service_tier).


class OutputStruct(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of the chunks we emit: lenient on decode, nulls omitted on encode."""


class FunctionDelta(OutputStruct):
    arguments: str | None = None
    name: str | None = None


class ToolCallDelta(OutputStruct):
    index: int
    id: str | None = None
    function: FunctionDelta | None = None
    type: str | None = None


class Delta(OutputStruct):
    content: str | None = None
    refusal: str | None = None
    role: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(OutputStruct, kw_only=True):
    delta: Delta
    finish_reason: str | None = None
    index: int


class PromptTokensDetails(OutputStruct):
    cached_tokens: int | None = None


class CompletionTokensDetails(OutputStruct):
    reasoning_tokens: int | None = None


class Usage(OutputStruct):
    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ChatCompletionChunk(OutputStruct):
    id: str
    choices: list[ChunkChoice]
    model: str
    object: str
    usage: Usage | None = None


# --- one aggregated answer (non-streaming chat) --------------------------------------------
# Field order is the order Elasticsearch 9.6 writes (``ChatCompletionChunkResponse`` and its
# message, choice and usage classes); None fields are omitted.


class ReplyFunction(OutputStruct, kw_only=True):
    arguments: str
    name: str


class ReplyToolCall(OutputStruct, kw_only=True):
    id: str
    function: ReplyFunction
    type: str


class AssistantReply(OutputStruct, kw_only=True):
    """The message of a non-streaming choice: the stream's deltas put together."""

    content: str | None = None
    refusal: str | None = None
    role: str
    tool_calls: list[ReplyToolCall] | None = None


class CompletionChoice(OutputStruct, kw_only=True):
    message: AssistantReply
    finish_reason: str | None = None
    index: int


class ChatCompletion(OutputStruct):
    """A whole chat answer in OpenAI's ``chat.completion`` shape."""

    id: str
    choices: list[CompletionChoice]
    model: str
    object: str
    usage: Usage | None = None
