"""``GET /metrics``: the Prometheus text of every worker (:mod:`inference_service.observe.metrics`).

Needs a ``monitor`` key when authentication is on, like reading endpoints; a key restricted to
some endpoints reads only their series, as listings show only them. An extension: not part of
Elasticsearch's API (its metrics live in Kibana and its stack monitoring).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.auth import current_key
from inference_service.observe.metrics import exposition


async def metrics(request: Request) -> Response:
    key = current_key(request)
    shows = key.scope.allows if key is not None and key.scope is not None else None
    return Response(exposition(shows), media_type=CONTENT_TYPE_LATEST)
