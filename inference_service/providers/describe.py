"""A provider's self-description for ``GET /_inference/_services``, read off its settings Structs.

Elasticsearch's Kibana draws its "create endpoint" form from this description; the admin page
(``/_ui/``) does the same. It is generated from the very Structs the management API validates
with (:mod:`inference_service.endpoints.configuration`), so a setting added to a provider shows
up here with the right type, requiredness and task types, and cannot drift from validation.

Keys are flat setting names; a nested Struct's settings are dotted
(``rate_limit.requests_per_minute``), as in Elasticsearch. Secrets are ``sensitive``. Every
setting is ``updatable``: this service's ``_update`` merges any service setting (a change of
where calls go must re-supply the secrets, :mod:`inference_service.endpoints.destinations`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.model.endpoint import INTERNAL_SETTINGS
from inference_service.model.task_type import TaskType
from inference_service.providers.schema import URL_MARKER, field_extra
from inference_service.providers.spec import ProviderSpec

DISPLAY_NAMES = {
    "anthropic": "Anthropic",
    "azureopenai": "Azure OpenAI",
    "cohere": "Cohere",
    "custom": "Custom",
    "deepseek": "DeepSeek",
    "googleaistudio": "Google AI Studio",
    "hugging_face": "Hugging Face",
    "jinaai": "Jina AI",
    "llamacpp": "llama.cpp (local)",
    "mistral": "Mistral",
    "openai": "OpenAI",
    "router": "Router",
    "splade": "SPLADE (local)",
    "voyageai": "Voyage AI",
}
"""Human names, as Kibana shows them; a provider not listed shows its wire name."""

_WORDS = {"id": "ID", "url": "URL", "api": "API", "rpm": "RPM", "json": "JSON", "ms": "(ms)"}

_DESCRIPTIONS = {
    "api_key": "The provider's API key: stored encrypted, never returned.",
    "model_id": "The upstream model this endpoint calls.",
    "model": "The upstream model this endpoint calls.",
    "url": "The URL calls go to (instead of the provider's default); checked against the URL allow-list.",
    "dimensions": "The number of dimensions of the output vectors (the validation call fills it in).",
    "similarity": "How vectors compare; filled in from the provider's default when not given.",
    "max_input_tokens": "The most tokens one input may have.",
    "upstream_max_retries": "Retries of a failed upstream call (unset: the service's setting applies).",
    "rate_limit.requests_per_minute": "Upstream requests per minute this endpoint may make.",
    "organization_id": "The organization the calls are billed to.",
}


class DescribeError(ValueError):
    """A setting's type has no Elasticsearch field type (a provider declaration to fix)."""


def label(key: str) -> str:
    """``rate_limit.requests_per_minute`` -> ``Rate Limit Requests Per Minute``."""
    return " ".join(_WORDS.get(w, w.capitalize()) for w in key.replace(".", "_").split("_") if w)


def _members(annotation: Any) -> list[msgspec.inspect.Type]:
    info = msgspec.inspect.type_info(annotation)
    members = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
    unwrapped = [m.type if isinstance(m, msgspec.inspect.Metadata) else m for m in members]
    return [m for m in unwrapped if not isinstance(m, msgspec.inspect.NoneType)]


def field_type(annotation: Any) -> str:
    """Elasticsearch's field type (``str``, ``int``, ``bool``, ``list``, ``map``) of a setting."""
    kinds = set()
    for member in _members(annotation):
        if isinstance(member, msgspec.inspect.StrType | msgspec.inspect.LiteralType):
            kinds.add("str")
        elif isinstance(member, msgspec.inspect.BoolType):
            kinds.add("bool")
        elif isinstance(member, msgspec.inspect.IntType):
            kinds.add("int")
        elif isinstance(member, msgspec.inspect.ListType | msgspec.inspect.TupleType):
            kinds.add("list")
        elif isinstance(member, msgspec.inspect.DictType | msgspec.inspect.StructType):
            kinds.add("map")
        else:
            raise DescribeError(f"no field type for setting type [{member}]")
    if len(kinds) != 1:
        raise DescribeError(f"setting type [{annotation}] maps to several field types {sorted(kinds)}")
    return kinds.pop()


def nested_struct(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct a setting holds (``rate_limit``), whose settings are described dotted."""
    members = _members(annotation)
    if len(members) == 1 and isinstance(members[0], msgspec.inspect.StructType):
        return members[0].cls
    return None


def _constraints(annotation: Any) -> str:
    notes = []
    for member in _members(annotation):
        if isinstance(member, msgspec.inspect.LiteralType):
            notes.append("One of: " + ", ".join(str(v) for v in member.values) + ".")
        if isinstance(member, msgspec.inspect.IntType):
            low = member.ge if member.ge is not None else (member.gt + 1 if member.gt is not None else None)
            high = member.le if member.le is not None else (member.lt - 1 if member.lt is not None else None)
            if low is not None and high is not None:
                notes.append(f"From {low} to {high}.")
            elif low is not None:
                notes.append(f"At least {low}.")
    return " ".join(notes)


def _description(key: str, annotation: Any, *, sensitive: bool) -> str:
    base = _DESCRIPTIONS.get(key)
    if base is None:
        base = f"{label(key)} (secret: stored encrypted, never returned)." if sensitive else f"{label(key)}."
    if field_extra(annotation, URL_MARKER) and key != "url":
        base += " An absolute http(s) URL, checked against the URL allow-list."
    extra = _constraints(annotation)
    return f"{base} {extra}".strip()


def flat_fields(
    struct: type[msgspec.Struct], prefix: str = ""
) -> list[tuple[str, msgspec.structs.FieldInfo, bool]]:
    """``(dotted key, field, required)`` for each setting a request may give, nested Structs
    flattened; a nested setting is required only when its Struct is."""
    found: list[tuple[str, msgspec.structs.FieldInfo, bool]] = []
    for f in msgspec.structs.fields(struct):
        if f.name in INTERNAL_SETTINGS:
            continue
        key = prefix + f.name
        inner = nested_struct(f.type)
        if inner is None:
            found.append((key, f, f.required))
        else:
            found.extend((k, g, req and f.required) for k, g, req in flat_fields(inner, key + "."))
    return found


def describe(spec: ProviderSpec) -> dict[str, Any]:
    """One ``_services`` object: ``service``, ``name``, ``task_types``, ``configurations``."""
    task_types = sorted(spec.task_types, key=list(TaskType).index)
    configurations: dict[str, dict[str, Any]] = {}
    scopes = [(t, spec.service_settings[t], False) for t in task_types] + [
        (t, spec.secrets, True) for t in task_types
    ]
    for task_type, struct, sensitive in scopes:
        for key, f, required in flat_fields(struct):
            entry = configurations.get(key)
            if entry is None:
                entry = configurations[key] = _entry(key, f, required=required, sensitive=sensitive)
            elif _default(f) != entry.get("default_value"):
                entry.pop("default_value", None)  # differs by task type: none shown for all
            entry["supported_task_types"].append(str(task_type))
            entry["required"] = entry["required"] and required
    return {
        "service": spec.name,
        "name": DISPLAY_NAMES.get(spec.name, spec.name),
        "task_types": [str(t) for t in task_types],
        "configurations": dict(sorted(configurations.items())),
    }


def _entry(key: str, f: msgspec.structs.FieldInfo, *, required: bool, sensitive: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    default = _default(f)
    if default is not None:
        entry["default_value"] = default
    entry.update(
        description=_description(key, f.type, sensitive=sensitive),
        label=label(key),
        required=required,
        sensitive=sensitive,
        updatable=True,
        type=field_type(f.type),
        supported_task_types=[],
    )
    return entry


def _default(f: msgspec.structs.FieldInfo) -> Any:
    """A setting's default as JSON (None when it has none, or its default is unset)."""
    if f.default is msgspec.NODEFAULT or f.default is None:
        return None
    return msgspec.to_builtins(f.default)


def describe_services(specs: list[ProviderSpec], task_type: TaskType | None = None) -> list[dict[str, Any]]:
    """The ``_services`` answer: every service (those serving ``task_type``), sorted by name."""
    chosen = [s for s in specs if task_type is None or task_type in s.task_types]
    return [describe(s) for s in sorted(chosen, key=lambda s: s.name)]
