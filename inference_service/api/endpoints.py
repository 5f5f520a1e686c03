"""The management API: PUT / GET / DELETE / ``_update`` on ``/_inference`` (reference §1.1-§1.6)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.http import check_request, json_response, query_bool, read_json_object
from inference_service.api.state import services
from inference_service.api.validation_call import validator_for
from inference_service.model.task_type import TaskType
from inference_service.model.time_value import parse_time_value

ALL_IDS = ("_all", "*")


async def put_endpoint(request: Request, inference_id: str, task_type: TaskType | None) -> Response:
    """Create. ``?validate=false`` (not in Elasticsearch) skips the provider validation call."""
    check_request(request, ("timeout", "validate"))
    _check_timeout(request)
    state = services(request)
    body = await read_json_object(request, state.settings.max_body_bytes)
    endpoint = await state.manager.create(inference_id, task_type, body, validator_for(request, state))
    return json_response(request, endpoint.public())


async def get_endpoints(request: Request, inference_id: str | None, task_type: TaskType | None) -> Response:
    check_request(request)
    manager = services(request).manager
    if inference_id is None or inference_id in ALL_IDS:
        endpoints = await manager.list_endpoints(task_type)
    else:
        endpoints = [await manager.get(inference_id, task_type)]
    return json_response(request, {"endpoints": [e.public() for e in endpoints]})


async def delete_endpoint(request: Request, inference_id: str, task_type: TaskType | None) -> Response:
    """Delete. ``force`` is accepted for compatibility: nothing here can reference an endpoint."""
    check_request(request, ("dry_run", "force"))
    dry_run = query_bool(request, "dry_run")
    query_bool(request, "force")
    deleted = await services(request).manager.delete(inference_id, task_type, dry_run=dry_run)
    return json_response(request, {"acknowledged": deleted, "pipelines": [], "indexes": []})


async def update_endpoint(request: Request, inference_id: str, task_type: TaskType | None) -> Response:
    """Update; the validation call re-runs only when the merged settings changed."""
    check_request(request, ("timeout", "validate"))
    _check_timeout(request)
    state = services(request)
    body = await read_json_object(request, state.settings.max_body_bytes)
    endpoint = await state.manager.update(inference_id, task_type, body, validator_for(request, state))
    return json_response(request, endpoint.public())


def _check_timeout(request: Request) -> None:
    raw = request.query_params.get("timeout")
    if raw is not None:
        parse_time_value(raw)
