"""``GET /v1/models`` and ``GET /v1/models/{model}``: the endpoints, as OpenAI lists models.

Only the endpoints the request's key may use are listed. ``id`` is the inference id,
``owned_by`` the endpoint's service, ``created`` its creation time (a preconfigured
endpoint's is the time this service started, when it was made).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import allows_endpoint
from inference_service.api.openai.conventions import json_response
from inference_service.api.state import services
from inference_service.errors import EndpointNotFoundError, NotFoundError
from inference_service.model.endpoint import Endpoint


def _model(endpoint: Endpoint, started_at: float) -> dict[str, Any]:
    created = endpoint.created_at.timestamp() if endpoint.created_at is not None else started_at
    return {
        "id": endpoint.inference_id,
        "object": "model",
        "created": int(created),
        "owned_by": endpoint.service,
    }


async def list_models(request: Request) -> Response:
    """The endpoints the request's key may use."""
    state = services(request)
    endpoints = [e for e in await state.manager.list_endpoints() if allows_endpoint(request, e.inference_id)]
    return json_response({"object": "list", "data": [_model(e, state.started_at) for e in endpoints]})


async def get_model(request: Request) -> Response:
    state = services(request)
    model = request.path_params["model"]
    try:
        endpoint = await state.manager.get(model)
    except EndpointNotFoundError:
        raise NotFoundError(
            f"The model `{model}` does not exist", code="model_not_found", param="model"
        ) from None
    return json_response(_model(endpoint, state.started_at))
