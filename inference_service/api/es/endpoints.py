"""The management API: PUT / GET / DELETE / ``_update`` on ``/_inference``."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import allows_endpoint, authorize_endpoint, current_key
from inference_service.api.bodies import decode_json_object
from inference_service.api.es.conventions import check_request, json_response, query_bool, read_json_body
from inference_service.api.state import Services, services
from inference_service.auth.roles import GET_ENDPOINTS, PUT_ENDPOINT, UPDATE_ENDPOINT, Action
from inference_service.endpoints.manager import TargetCheck, Validator
from inference_service.inference.deadline import Deadline
from inference_service.inference.validation_call import validation_call
from inference_service.model.endpoint import Endpoint
from inference_service.model.task_type import TaskType, parse_task_type

ALL_IDS = ("_all", "*")
BODY = "inference_endpoint"


def path_task_type(request: Request) -> TaskType | None:
    """The ``{task_type}`` segment of the path, if the route has one (case-insensitive)."""
    raw = request.path_params.get("task_type")
    return parse_task_type(raw) if raw is not None else None


async def put_endpoint(request: Request) -> Response:
    """Create. ``?validate=false`` (not in Elasticsearch) skips the provider validation call."""
    return await _write(request, create=True)


async def get_endpoints(request: Request) -> Response:
    """One endpoint, or all those the request's key may use."""
    check_request(request)
    manager = services(request).manager
    inference_id = request.path_params.get("inference_id")
    task_type = path_task_type(request)
    if inference_id is None or inference_id in ALL_IDS:
        listed = await manager.list_endpoints(task_type)
        endpoints = [e for e in listed if allows_endpoint(request, e.inference_id)]
    else:
        authorize_endpoint(request, GET_ENDPOINTS, inference_id)
        endpoints = [await manager.get(inference_id, task_type)]
    return json_response(request, {"endpoints": [e.public() for e in endpoints]})


async def delete_endpoint(request: Request) -> Response:
    """Delete. Routers are what may reference an endpoint here: one they target is a 409
    unless ``force``; ``dry_run`` lists them (``routers``, beside Elasticsearch's ``pipelines``
    and ``indexes``, present when there are some; those outside a restricted key's endpoints
    only as a count, ``routers_outside_api_key``)."""
    check_request(request, ("dry_run", "force"))
    dry_run = query_bool(request, "dry_run")
    force = query_bool(request, "force")
    inference_id = request.path_params["inference_id"]
    deletion = await services(request).manager.delete(
        inference_id,
        path_task_type(request),
        dry_run=dry_run,
        force=force,
        visible=lambda router: allows_endpoint(request, router),
    )
    body: dict[str, object] = {"acknowledged": deletion.deleted, "pipelines": [], "indexes": []}
    if deletion.routers:
        body["routers"] = deletion.routers
    if deletion.hidden_routers:  # a restricted key learns how many, not which
        body["routers_outside_api_key"] = deletion.hidden_routers
    return json_response(request, body)


async def update_endpoint(request: Request) -> Response:
    """Update; the validation call re-runs only when the merged settings changed."""
    return await _write(request, create=False)


async def _write(request: Request, *, create: bool) -> Response:
    check_request(request, ("timeout", "validate"))
    state = services(request)
    validate = _validator(request, state)
    body = decode_json_object(await read_json_body(request, state.settings.max_body_bytes), BODY)
    inference_id = request.path_params["inference_id"]
    write = state.manager.create if create else state.manager.update
    targets = _target_check(request, PUT_ENDPOINT if create else UPDATE_ENDPOINT)
    endpoint = await write(inference_id, path_task_type(request), body, validate, targets)
    return json_response(request, endpoint.public())


def _target_check(request: Request, action: Action) -> TargetCheck | None:
    """For a key restricted to some endpoints: a router it writes may only add targets among
    them (403 naming the first other one), or the key would use them through the router."""
    key = current_key(request)
    if key is None or key.scope is None:
        return None

    def check(targets: Sequence[str]) -> None:
        for target in targets:
            authorize_endpoint(request, action, target)

    return check


def _validator(request: Request, state: Services) -> Validator | None:
    """The provider validation call for this request, or None when it is turned off.

    Its deadline is the request's ``timeout`` (checked here, before the body is read), else
    the ``default_timeout`` setting.
    """
    deadline = Deadline.parse(request.query_params.get("timeout"), state.settings.default_timeout)
    flag = request.query_params.get("validate")
    enabled = state.settings.validate_on_put if flag is None else query_bool(request, "validate")
    if not enabled:
        return None

    async def validate(endpoint: Endpoint) -> Endpoint:
        return await validation_call(state.registry, state.providers, endpoint, deadline)

    return validate
