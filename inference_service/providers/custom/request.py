"""The upstream request of a ``custom`` endpoint: its templates filled in (pure).

Placeholders are ``${name}``, filled as Elasticsearch fills them (``CustomRequest``,
``ValidatingSubstitutor``):

- ``url``, ``headers`` values and ``query_parameters`` values take the **string** secret and task
  parameters, raw (no quotes);
- ``request`` (the body, one string) takes every parameter as **JSON** (``"text"``, ``3``,
  ``true``), so templates write ``${x}`` without quotes, plus the built-ins of the task, which
  win over parameters of the same name: ``${input}`` (a JSON array of the texts; for completion
  the JSON string of the prompt), ``${input_type}`` (the translated input type), and for rerank
  ``${query}``, ``${top_n}`` and ``${return_documents}`` (the last two only when the request
  gives them).

A placeholder of the template that nothing fills is refused with Elasticsearch's message. One
difference, on purpose: only the template's own placeholders count, so an input text that
happens to contain ``${…}`` is sent as it is (Elasticsearch searches the filled-in body and
refuses it). Query parameters are appended in order, form-encoded; ``Content-Type:
application/json`` is sent unless a header sets it. A task parameter may not have the name of a
secret parameter (elastic/elasticsearch#153309): it could replace or echo the secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import msgspec

from inference_service.model.embedding import InputType
from inference_service.model.rerank import RerankRequest
from inference_service.model.task_type import TaskType
from inference_service.providers.custom.settings import CustomSettings, InputTypeTranslation, Scalar

PLACEHOLDER = re.compile(r"\$\{(.*?)\}")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_ENCODE = msgspec.json.encode


class TemplateError(ValueError):
    """A template that cannot be filled in; the message never contains a parameter's value."""


@dataclass(frozen=True, slots=True)
class Parameters:
    raw: Mapping[str, str]
    """For ``url``, ``headers`` and ``query_parameters``: the string parameters."""
    json: Mapping[str, str]
    """For ``request``: every parameter and the built-ins, as JSON text."""


@dataclass(frozen=True, slots=True)
class BuiltRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def shadowed_secrets(secrets: Mapping[str, str], task: Mapping[str, Scalar]) -> str | None:
    """The problem when task parameters reuse secret parameter names (named, never valued)."""
    shadowed = sorted(secrets.keys() & task.keys())
    if not shadowed:
        return None
    return (
        f"[task_settings] parameters [{', '.join(shadowed)}] have the names of secret parameters; "
        "a task parameter may not replace a secret parameter"
    )


def parameters(
    secrets: Mapping[str, str], task: Mapping[str, Scalar], builtins: Mapping[str, str]
) -> Parameters:
    """What fills the templates (see :func:`shadowed_secrets`, checked before)."""
    raw = {**secrets, **{k: v for k, v in task.items() if isinstance(v, str)}}
    as_json = {k: _json(v) for k, v in {**secrets, **task}.items()}
    return Parameters(raw=raw, json={**as_json, **builtins})


def embedding_builtins(
    inputs: Sequence[str], input_type: InputType | None, translation: InputTypeTranslation | None
) -> dict[str, str]:
    """``${input}`` and ``${input_type}``; semantic_text's internal input types are translated as
    their REST twins (``internal_ingest`` as ``ingest``)."""
    name = input_type.public.value if input_type is not None else None
    translated = (translation or InputTypeTranslation()).translate(name)
    return {"input": _json(list(inputs)), "input_type": _json(translated)}


def rerank_builtins(request: RerankRequest) -> dict[str, str]:
    builtins = {"input": _json(request.input), "query": _json(request.query)}
    if request.top_n is not None:
        builtins["top_n"] = _json(request.top_n)
    if request.return_documents is not None:
        builtins["return_documents"] = _json(request.return_documents)
    return builtins


def completion_builtins(prompt: str) -> dict[str, str]:
    return {"input": _json(prompt)}


def build_request(settings: CustomSettings, params: Parameters) -> BuiltRequest:
    """The URL (query parameters appended), headers and body of one upstream call."""
    url = substitute(settings.url, params.raw, "url")
    query = [
        (key, substitute(value, params.raw, f"query parameters: [{key}]"))
        for key, value in settings.query_parameters or ()
    ]
    if query:
        parts = urlsplit(url)
        joined = "&".join(q for q in (parts.query, urlencode(query)) if q)
        url = urlunsplit(parts._replace(query=joined))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TemplateError(
            f"The url [{settings.url}] does not give an absolute http or https URL once its placeholders "
            "are replaced"
        )
    headers = {"Content-Type": "application/json"}
    for name, template in (settings.headers or {}).items():
        if template is None:
            continue
        if not _TOKEN.match(name):
            raise TemplateError(f"Header name [{name}] is not a valid HTTP header name")
        value = substitute(template, params.raw, f"header.{name}")
        if "\r" in value or "\n" in value or "\0" in value:
            raise TemplateError(
                f"Header [{name}] contains a line break or NUL once its placeholders are replaced"
            )
        if name.lower() == "content-type":
            headers.pop("Content-Type", None)
        headers[name] = value
    body = substitute(settings.request, params.json, "request").encode()
    return BuiltRequest(url=url, headers=headers, body=body)


def substitute(template: str, values: Mapping[str, str], field: str) -> str:
    """``template`` with each ``${name}`` replaced by ``values[name]``; an unknown name is refused."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            missing.append(match.group(0))
            return match.group(0)
        return value

    filled = PLACEHOLDER.sub(fill, template)
    if missing:
        raise TemplateError(
            f"Found placeholder [{missing[0]}] in field [{field}] after replacement call, please check that "
            "all templates have a corresponding field definition."
        )
    return filled


def _json(value: object) -> str:
    return _ENCODE(value).decode()


PROBE_INPUT = "how big"
PROBE_QUERY = "test query"


def dry_run(
    task_type: TaskType, settings: CustomSettings, secrets: Mapping[str, str], task: Mapping[str, Scalar]
) -> list[str]:
    """The PUT check: the templates filled with mock inputs (the validation call's), in
    Elasticsearch's words (``Failed to validate model configuration: …``)."""
    problem = shadowed_secrets(secrets, task)
    if problem is not None:
        return [problem]
    try:
        build_request(settings, parameters(secrets, task, _probe_builtins(task_type, settings)))
    except TemplateError as exc:
        return [f"Failed to validate model configuration: {exc}"]
    return []


def probe_url(
    task_type: TaskType, settings: CustomSettings, secrets: Mapping[str, str], task: Mapping[str, Scalar]
) -> str | None:
    """The URL (placeholders filled in, query parameters appended) a call with the endpoint's own
    parameters goes to: what the provider URL guard checks. None when the templates do not fill
    in (:func:`dry_run` has said why)."""
    try:
        built = build_request(settings, parameters(secrets, task, _probe_builtins(task_type, settings)))
    except TemplateError:
        return None
    return built.url


def _probe_builtins(task_type: TaskType, settings: CustomSettings) -> dict[str, str]:
    if task_type == TaskType.RERANK:
        return rerank_builtins(RerankRequest(query=PROBE_QUERY, input=[PROBE_INPUT]))
    if task_type == TaskType.COMPLETION:
        return completion_builtins(PROBE_INPUT)
    return embedding_builtins([PROBE_INPUT], InputType.INTERNAL_INGEST, settings.input_type)
