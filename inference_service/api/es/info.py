"""``GET /``: service info in the shape of Elasticsearch's root endpoint (``client.info()``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from inference_service import __version__
from inference_service.api.es.conventions import check_request, json_response

# The Elasticsearch version we speak; the official client reads ``version.number``.
COMPATIBLE_ES_VERSION = "9.1.0"


async def root_info(request: Request) -> Response:
    check_request(request)
    return json_response(
        request,
        {
            "name": "inference-service",
            "cluster_name": "inference-service",
            "version": {
                "number": COMPATIBLE_ES_VERSION,
                "build_flavor": "inference-service",
                "inference_service_version": __version__,
                "minimum_wire_compatibility_version": "8.18.0",
            },
            "tagline": "You Know, for Search",
        },
    )
