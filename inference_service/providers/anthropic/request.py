"""Unified chat request -> Anthropic Messages API request body (pure).

Deviations from the unified (OpenAI-shaped) request, and why:

- ``system`` messages become the top-level ``system`` prompt (Anthropic has no system role);
  several are joined with blank lines, in order.
- ``tool`` messages become ``tool_result`` blocks in a *user* turn; assistant ``tool_calls``
  become ``tool_use`` blocks whose ``input`` is the parsed ``arguments`` JSON (arguments that
  are not a JSON object are a 400: Anthropic would reject them).
- Consecutive turns of the same role are merged, since Anthropic requires alternation.
- ``max_tokens`` is required by Anthropic: the request's ``max_completion_tokens`` if given,
  else ``task_settings.max_tokens`` (required on the endpoint, as in Elasticsearch).
- ``temperature``/``top_p`` come from the request, else from task settings; ``top_k`` from
  task settings; ``stop`` becomes ``stop_sequences``.
- ``tool_choice``: ``auto`` -> ``{"type":"auto"}``, ``required`` -> ``{"type":"any"}``,
  ``none`` -> ``{"type":"none"}``, a named function -> ``{"type":"tool","name":…}``.
- Content parts: ``text`` -> text block; ``image_url`` -> image block (``data:`` URLs as
  base64, others by URL); ``file`` with a PDF ``data:`` URL -> document block (other files
  are refused). System messages take text only (Anthropic's ``system`` is text). ``reasoning``
  has no Anthropic equivalent here and is rejected.
- ``parallel_tool_calls: false`` -> ``disable_parallel_tool_use: true`` on the ``tool_choice``
  (``{"type":"auto"}`` when none was given; with ``none`` no tool is called, so nothing to add).
  ``seed`` has no Anthropic equivalent: a 400; nor have ``frequency_penalty`` and
  ``presence_penalty``: a 400 unless 0.
- ``response_format`` (Anthropic has no JSON mode, so this is a deviation by design): a JSON
  format becomes one forced tool, :func:`json_tool`, whose ``input_schema`` is the schema
  (``{"type": "object"}`` for ``json_object``), with ``tool_choice: {"type": "tool", …}``. The
  model must "call" it, and its input is the JSON answer; the response translation
  (:class:`~inference_service.providers.anthropic.response.AnthropicStreamTranslator` with
  ``json_tool``) streams that input back as the message *content*, finishing with ``stop``.
  A tool input is always an object, so the schema must be an object schema, and the forced
  tool leaves no room for the client's own: ``tools`` or ``tool_choice`` with a JSON format
  are a 400. ``text`` is Anthropic's default and adds nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.errors import InvalidRequestError, UnsupportedError
from inference_service.model.chat import (
    AssistantMessage,
    ChatCompletionRequest,
    JsonObjectFormat,
    JsonSchemaFormat,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
from inference_service.providers.anthropic.settings import AnthropicServiceSettings, AnthropicTaskSettings
from inference_service.providers.penalties import refuse_penalties

_ENCODER = msgspec.json.Encoder()
_DATA_URL_PREFIX = "data:"
JSON_OBJECT_TOOL = "json_object"
"""The forced tool's name for ``json_object`` (``json_schema`` uses its own ``name``)."""
_JSON_TOOL_DESCRIPTION = (
    "Give your whole answer by calling this tool: its input is the response, as JSON matching "
    "the input schema."
)


def _media(url: str, param: str) -> dict[str, Any]:
    """A ``data:<type>;base64,<data>`` URL -> an Anthropic base64 source."""
    header, _, data = url.partition(",")
    media_type = header[len(_DATA_URL_PREFIX) :].split(";", 1)[0]
    if ";base64" not in header or not data:
        raise InvalidRequestError(f"{param}: only base64 data URLs are supported", param=param)
    return {"type": "base64", "media_type": media_type, "data": data}


def _blocks(content: Any, path: str) -> list[dict[str, Any]]:
    """Unified content (a string or parts) -> Anthropic content blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for i, part in enumerate(msgspec.to_builtins(content)):
        kind = part.get("type")
        where = f"{path}[{i}]"
        if kind == "text":
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            url = part["image_url"]["url"]
            source = _media(url, where) if url.startswith(_DATA_URL_PREFIX) else {"type": "url", "url": url}
            blocks.append({"type": "image", "source": source})
        elif kind == "file":
            data = part["file"].get("file_data", "")
            if not data.startswith(_DATA_URL_PREFIX):
                raise UnsupportedError(f"{where}: files must be given as data URLs", param=where)
            source = _media(data, where)
            if source["media_type"] != "application/pdf":
                raise UnsupportedError(
                    f"{where}: the [anthropic] service reads PDF files only, not [{source['media_type']}]",
                    param=where,
                )
            blocks.append({"type": "document", "source": source})
        else:
            raise UnsupportedError(f"{where}: content type [{kind}] is not supported", param=where)
    return blocks


def _tool_use(call: Any, path: str) -> dict[str, Any]:
    try:
        arguments = msgspec.json.decode(call.function.arguments or "{}")
    except msgspec.DecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidRequestError(
            f"{path}.function.arguments must be a JSON object for the [anthropic] service",
            param=f"{path}.function.arguments",
        )
    return {"type": "tool_use", "id": call.id, "name": call.function.name, "input": arguments}


def _tool_choice(choice: Any) -> dict[str, Any]:
    if isinstance(choice, str):
        return {"type": {"auto": "auto", "required": "any", "none": "none"}[choice]}
    return {"type": "tool", "name": choice.function.name}


def json_tool(request: ChatCompletionRequest) -> str | None:
    """The name of the forced tool that carries a JSON ``response_format``; None for text."""
    fmt = request.json_output
    if isinstance(fmt, JsonSchemaFormat):
        return fmt.json_schema.name
    return JSON_OBJECT_TOOL if isinstance(fmt, JsonObjectFormat) else None


def _json_tool_definition(request: ChatCompletionRequest, name: str) -> dict[str, Any]:
    """The forced tool of a JSON format (400 where it cannot be one)."""
    if request.tools or request.tool_choice is not None:
        raise UnsupportedError(
            "[response_format] cannot be combined with [tools] or [tool_choice] for the [anthropic] "
            "service: Anthropic has no JSON mode, so the format is sent as a tool the model must "
            "call, which leaves no choice of tools",
            param="response_format",
        )
    fmt = request.response_format
    spec = fmt.json_schema if isinstance(fmt, JsonSchemaFormat) else None
    schema = spec.schema if spec is not None and spec.schema is not None else {"type": "object"}
    if schema.get("type") != "object":
        raise UnsupportedError(
            '[$.response_format.json_schema.schema] must describe an object ("type": "object") for '
            "the [anthropic] service: the answer is a tool input, always an object",
            param="$.response_format.json_schema.schema",
        )
    description = spec.description if spec is not None and spec.description else _JSON_TOOL_DESCRIPTION
    return {"name": name, "description": description, "input_schema": schema}


def to_anthropic_request(
    request: ChatCompletionRequest, settings: AnthropicServiceSettings, task: AnthropicTaskSettings
) -> bytes:
    """The JSON body to POST to ``/v1/messages``, encoded once."""
    if request.reasoning is not None:
        raise UnsupportedError("[reasoning] is not supported by the [anthropic] service", param="reasoning")
    if request.seed is not None:
        raise UnsupportedError("[seed] is not supported by the [anthropic] service", param="seed")
    refuse_penalties(request, "anthropic")
    system: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for i, message in enumerate(request.messages):
        path = f"$.messages[{i}]"
        if isinstance(message, SystemMessage):
            for block in _blocks(message.content, f"{path}.content"):
                if block["type"] != "text":
                    raise UnsupportedError(
                        f"{path}.content: system messages take text only for the [anthropic] service, "
                        f"not [{block['type']}]",
                        param=f"{path}.content",
                    )
                system.append(block["text"])
        elif isinstance(message, UserMessage):
            add("user", _blocks(message.content, f"{path}.content"))
        elif isinstance(message, AssistantMessage):
            blocks = _blocks(message.content, f"{path}.content")
            blocks += [
                _tool_use(c, f"{path}.tool_calls[{j}]") for j, c in enumerate(message.tool_calls or [])
            ]
            add("assistant", blocks)
        elif isinstance(message, ToolMessage):
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            content = _blocks(message.content, f"{path}.content")
            if content:
                result["content"] = content
            add("user", [result])

    body: dict[str, Any] = {
        "model": request.model or settings.model_id,
        "max_tokens": request.max_completion_tokens or task.max_tokens,
        "messages": turns,
        "stream": True,
    }
    if system:
        body["system"] = "\n\n".join(system)
    body.update(request.sampling(task.temperature, task.top_p))
    if task.top_k is not None:
        body["top_k"] = task.top_k
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.tools:
        body["tools"] = [
            {
                "name": tool.function.name,
                **({"description": tool.function.description} if tool.function.description else {}),
                "input_schema": tool.function.parameters or {"type": "object", "properties": {}},
            }
            for tool in request.tools
        ]
    choice = _tool_choice(request.tool_choice) if request.tool_choice is not None else None
    if request.parallel_tool_calls is False and (choice is None or choice["type"] != "none"):
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    forced = json_tool(request)
    if forced is not None:
        body["tools"] = [_json_tool_definition(request, forced)]
        choice = {"type": "tool", "name": forced}
    if choice is not None:
        body["tool_choice"] = choice
    return _ENCODER.encode(body)
