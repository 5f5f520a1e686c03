"""What ``client.endpoints`` sends and how its answers are read: the management API
(``PUT``/``GET``/``DELETE /_inference/...``, ``_update``), pure functions shared by the sync and
the async client like :mod:`inference_service.client.calls`. Answers carry no secrets: the
service never returns them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from inference_service.client.calls import Call, api_path, encode, set_given, strict_decoder
from inference_service.client.types import Endpoint


class _Endpoints(msgspec.Struct):
    endpoints: list[Endpoint]


_ENDPOINT = strict_decoder(Endpoint)
_ENDPOINTS = strict_decoder(_Endpoints)


def _one(data: bytes) -> Endpoint:
    found = _ENDPOINTS(data).endpoints
    if len(found) != 1:
        raise msgspec.ValidationError(f"expected one endpoint, got {len(found)}")
    return found[0]


def create_endpoint(
    inference_id: str,
    task_type: str,
    service: str,
    service_settings: Mapping[str, Any],
    task_settings: Mapping[str, Any] | None,
    chunking_settings: Mapping[str, Any] | None,
    cache: Mapping[str, Any] | None = None,
) -> Call[Endpoint]:
    body: dict[str, Any] = {"service": service, "service_settings": dict(service_settings)}
    set_given(body, "task_settings", None if task_settings is None else dict(task_settings))
    set_given(body, "chunking_settings", None if chunking_settings is None else dict(chunking_settings))
    set_given(body, "cache", None if cache is None else dict(cache))
    return Call(
        method="PUT",
        path=api_path(task_type, inference_id),
        body=encode(body),
        deadline_param=True,
        parse=_ENDPOINT,
    )


def get_endpoint(inference_id: str) -> Call[Endpoint]:
    return Call(method="GET", path=api_path(inference_id), parse=_one)


def list_endpoints(task_type: str | None) -> Call[list[Endpoint]]:
    path = api_path(task_type, "_all") if task_type is not None else api_path("_all")
    return Call(method="GET", path=path, parse=lambda data: _ENDPOINTS(data).endpoints)


def update_endpoint(
    inference_id: str, service_settings: Mapping[str, Any] | None, task_settings: Mapping[str, Any] | None
) -> Call[Endpoint]:
    if service_settings is None and task_settings is None:
        raise TypeError("give service_settings and/or task_settings to update")
    body: dict[str, Any] = {}
    set_given(body, "service_settings", None if service_settings is None else dict(service_settings))
    set_given(body, "task_settings", None if task_settings is None else dict(task_settings))
    return Call(
        method="PUT",
        path=api_path(inference_id, "_update"),
        body=encode(body),
        deadline_param=True,
        parse=_ENDPOINT,
    )


class _Acknowledged(msgspec.Struct):
    acknowledged: bool


_ACK = strict_decoder(_Acknowledged)


def delete_endpoint(inference_id: str) -> Call[None]:
    def parse(data: bytes) -> None:
        if not _ACK(data).acknowledged:
            raise msgspec.ValidationError("the service did not acknowledge the deletion")

    return Call(method="DELETE", path=api_path(inference_id), parse=parse)
