"""The rules of endpoint management: pure functions over decoded bodies.

Shared by the REST API, the CLI, declarative files and migration revisions, so every way of
creating or changing an endpoint validates it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inference_service.cache.policy import parse_cache
from inference_service.endpoints.configuration import (
    EndpointSettings,
    java_map,
    parse_endpoint_settings,
    stored_request_settings,
)
from inference_service.endpoints.destinations import check_secrets_resupplied
from inference_service.errors import (
    BadRequestError,
    InvalidRequestError,
    ParseError,
    TaskTypeMismatchError,
    UnsupportedError,
    validation_failed,
)
from inference_service.model.endpoint import (
    PRECONFIGURED_PREFIX,
    Endpoint,
    validate_inference_id,
)
from inference_service.model.task_type import TaskType, parse_task_type
from inference_service.providers.registry import ProviderRegistry

_PUT_FIELDS = frozenset(
    {"service", "service_settings", "task_settings", "chunking_settings", "task_type", "cache"}
)
_UPDATE_FIELDS = frozenset({"service_settings", "task_settings", "task_type", "cache"})


def _object(body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequestError(
            f"Unable to parse [{key}] in the request: expected an object, got [{java_map(value)}]"
        )
    return value


def resolve_task_type(url_task_type: TaskType | None, body_task_type: Any) -> TaskType:
    """The task type from the URL and/or the body."""
    if body_task_type is not None and not isinstance(body_task_type, str):
        raise BadRequestError(f"Unknown task_type [{java_map(body_task_type)}]")
    from_body = parse_task_type(body_task_type) if body_task_type is not None else None
    if url_task_type is not None and from_body is not None and url_task_type != from_body:
        raise BadRequestError(
            "Cannot resolve conflicting task_type parameter in the request URL "
            f"[{url_task_type}] and the request body [{from_body}]"
        )
    task_type = url_task_type or from_body
    if task_type is None:
        raise InvalidRequestError("model is missing required setting [task_type]")
    return task_type


def check_writable(inference_id: str) -> None:
    """Ids starting with ``.`` belong to preconfigured endpoints, which are read-only."""
    if inference_id.startswith(PRECONFIGURED_PREFIX):
        raise BadRequestError(
            f"[{inference_id}] is a preconfigured inference endpoint and cannot be created, "
            f"updated or deleted; ids starting with [{PRECONFIGURED_PREFIX}] are reserved"
        )
    validate_inference_id(inference_id)


def check_task_type(endpoint: Endpoint, requested: TaskType | None) -> None:
    if requested is not None and requested != endpoint.task_type:
        raise TaskTypeMismatchError(
            f"Requested task type [{requested}] does not match the inference endpoint's "
            f"task type [{endpoint.task_type}]"
        )


def build_endpoint(
    registry: ProviderRegistry, inference_id: str, url_task_type: TaskType | None, body: Mapping[str, Any]
) -> Endpoint:
    """Validate a PUT body into an :class:`Endpoint`; one 400 lists all problems."""
    check_writable(inference_id)
    task_type = resolve_task_type(url_task_type, body.get("task_type"))
    service = body.get("service")
    if service is None:
        raise InvalidRequestError("Model configuration is missing a service")
    if not isinstance(service, str):
        raise BadRequestError(f"Unknown service [{java_map(service)}]")
    spec = registry.get(service)
    service_settings = _object(body, "service_settings")
    if service_settings is None:
        raise InvalidRequestError(validation_failed(["Model configuration is missing [service_settings]"]))
    leftover = {k: v for k, v in body.items() if k not in _PUT_FIELDS}
    if leftover:
        raise UnsupportedError(
            f"Configuration contains settings [{java_map(leftover)}] unknown to the [{service}] service"
        )
    parsed = parse_endpoint_settings(
        spec,
        task_type,
        service_settings,
        _object(body, "task_settings"),
        _object(body, "chunking_settings"),
    )
    return endpoint_from_settings(inference_id, task_type, service, parsed, parse_cache(body.get("cache")))


def merge_update(registry: ProviderRegistry, current: Endpoint, body: Mapping[str, Any]) -> Endpoint:
    """The endpoint after an ``_update`` body is merged into ``current``; one that moves where
    the calls go must re-supply the secrets (:func:`check_secrets_resupplied`)."""
    if not body:
        raise ParseError("Request body is empty")
    extra = {k: v for k, v in body.items() if k not in _UPDATE_FIELDS}
    if extra:
        raise BadRequestError(
            "Request contained fields which cannot be updated, remove these fields and try "
            f"again [{java_map(extra)}]"
        )
    check_task_type(current, resolve_task_type(current.task_type, body.get("task_type")))
    changes = _object(body, "service_settings") or {}
    spec = registry.get(current.service)
    stored_service, stored_task = stored_request_settings(spec, current)
    by_user = current.internal_settings.get("dimensions_set_by_user")
    spec = registry.get(current.service)
    task_struct = spec.task_settings_for(current.task_type)
    parsed = parse_endpoint_settings(
        spec,
        current.task_type,
        {**stored_service, **changes},
        task_struct.merged(stored_task, _object(body, "task_settings") or {}),
        current.chunking_settings,
        dimensions_set_by_user=True if "dimensions" in changes else by_user,
    )
    cache = parse_cache(body["cache"]) if "cache" in body else current.cache
    updated = endpoint_from_settings(current.inference_id, current.task_type, current.service, parsed, cache)
    check_secrets_resupplied(spec, current, updated, changes)
    return updated


def endpoint_from_settings(
    inference_id: str,
    task_type: TaskType,
    service: str,
    parsed: EndpointSettings,
    cache: dict[str, Any] | None = None,
) -> Endpoint:
    return Endpoint(
        inference_id=inference_id,
        task_type=task_type,
        service=service,
        service_settings=parsed.service_settings,
        task_settings=parsed.task_settings,
        chunking_settings=parsed.chunking_settings,
        cache=cache,
        secrets=parsed.secrets,
    )
