"""The management API's bodies, from the provider registry: one PUT body schema per service.

A PUT body's ``service_settings`` are the service's settings Struct for the task type *and*
its secrets Struct (secrets are sent inside ``service_settings``, stored encrypted, never
returned), so each ``(service, task type)`` gets one merged component; ``task_settings`` are
``spec.task_settings_for(task_type)``. The PUT body is any of the per-service bodies, told
apart by their ``service`` constant. An ``_update`` body can be checked only against the
endpoint it updates, so its settings are plain objects here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from inference_service.model.task_type import TaskType
from inference_service.providers.registry import ProviderRegistry
from inference_service.providers.spec import ProviderSpec

REF = "#/components/schemas/{name}"
CACHE: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "properties": {"ttl": {"type": "string", "description": "A time value such as `10m`."}},
            "required": ["ttl"],
            "additionalProperties": False,
        },
        {"type": "null"},
    ],
    "description": "Extension: cache this endpoint's answers for `ttl` (null: no cache).",
}
TASK_TYPE: dict[str, Any] = {"type": "string", "enum": [str(t) for t in TaskType]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[1]


def _merged(settings: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """One object schema with the properties and required fields of both."""
    return {
        "title": settings.get("title", ""),
        "description": (settings.get("description") or "Service settings.")
        + " Secrets (sent here, stored encrypted, never returned): "
        + (", ".join(f"`{k}`" for k in secrets.get("properties", {})) or "none")
        + ".",
        "type": "object",
        "properties": {**settings.get("properties", {}), **secrets.get("properties", {})},
        "required": sorted({*settings.get("required", []), *secrets.get("required", [])}),
        "additionalProperties": False,
    }


def _put_body(spec: ProviderSpec, components: dict[str, Any], refs: dict[type, dict[str, Any]]) -> str:
    """The component of ``spec``'s PUT body; adds its merged settings components."""
    settings_refs: list[dict[str, str]] = []
    task_refs: list[dict[str, Any]] = []
    for task_type in sorted(spec.service_settings):
        name = f"ServiceSettings.{spec.name}.{task_type}"
        settings = components[_name(refs[spec.service_settings[task_type]])]
        components[name] = _merged(settings, components[_name(refs[spec.secrets])])
        settings_refs.append(_ref(name))
        task_ref = refs[spec.task_settings_for(task_type)]
        if task_ref not in task_refs:
            task_refs.append(task_ref)
    body = f"PutEndpointBody.{spec.name}"
    components[body] = {
        "title": body,
        "type": "object",
        "properties": {
            "service": {"const": spec.name},
            "task_type": {**TASK_TYPE, "enum": sorted(str(t) for t in spec.service_settings)},
            "service_settings": {"anyOf": settings_refs},
            "task_settings": {"anyOf": task_refs},
            "chunking_settings": {"type": "object", "description": "How long inputs are split."},
            "cache": CACHE,
        },
        "required": ["service", "service_settings"],
        "additionalProperties": False,
    }
    return body


def endpoint_components(registry: ProviderRegistry) -> dict[str, Any]:
    """``PutEndpointBody``, ``UpdateEndpointBody`` and every component they reference."""
    structs: list[type] = []
    for spec in registry.specs:
        for task_type in sorted(spec.service_settings):
            structs += [spec.service_settings[task_type], spec.task_settings_for(task_type)]
        structs.append(spec.secrets)
    unique = list(dict.fromkeys(structs))
    schemas, components = msgspec.json.schema_components(unique, ref_template=REF)
    refs = dict(zip(unique, schemas, strict=True))
    bodies = [_put_body(spec, components, refs) for spec in registry.specs]
    components["PutEndpointBody"] = {
        "title": "PutEndpointBody",
        "description": "An endpoint to create: its service, and that service's settings for the task "
        "type (from the URL or `task_type`).",
        "anyOf": [_ref(b) for b in bodies],
    }
    components["UpdateEndpointBody"] = {
        "title": "UpdateEndpointBody",
        "description": "Settings merged into the endpoint's (its service's schemas apply); a change "
        "of where calls go must re-supply the secrets.",
        "type": "object",
        "properties": {
            "service_settings": {"type": "object"},
            "task_settings": {"type": "object"},
            "task_type": TASK_TYPE,
            "cache": CACHE,
        },
        "minProperties": 1,
        "additionalProperties": False,
    }
    return dict(components)
