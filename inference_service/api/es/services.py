"""``GET /_inference/_services`` and ``GET /_inference/_services/{task_type}``: what each
service is and which settings it takes, as Elasticsearch describes its services (a bare JSON
array sorted by ``service``; an unknown task type is a 400 ``Unknown task_type [x]``).

The description is generated from the providers' settings Structs
(:mod:`inference_service.providers.describe`); the admin page builds its forms from it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.es.conventions import check_request, json_response
from inference_service.api.state import services
from inference_service.model.task_type import parse_task_type
from inference_service.providers.describe import describe_services


async def get_services(request: Request) -> Response:
    check_request(request)
    raw = request.path_params.get("task_type")
    task_type = parse_task_type(raw) if raw is not None else None
    return json_response(request, describe_services(services(request).registry.specs, task_type))
