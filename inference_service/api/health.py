"""``GET /_health/live`` and ``GET /_health/ready``: what orchestrators and load balancers probe.

Both are public even when auth is on (a probe carries no key) and cheap: ``live`` touches
nothing, ``ready`` runs one ``SELECT 1`` under :data:`DATABASE_CHECK_TIMEOUT_S` and reads flags.
Ready means this worker should be sent traffic: the database answers (management needs it, and
a node that cannot reach it would serve a catalog that no longer moves), the endpoint catalog
is loaded, the preloaded local models are in, and the worker is not draining (SIGTERM,
:mod:`inference_service.worker`). Otherwise 503, with every check and the failing ones named.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.es.conventions import check_request, json_response
from inference_service.api.state import services
from inference_service.lifecycle import Lifecycle

DATABASE_CHECK_TIMEOUT_S = 2.0
"""A database that takes longer than this to answer ``SELECT 1`` counts as unreachable."""

OK = "ok"


async def live(request: Request) -> Response:
    """200 while the process serves requests at all: restart it when this fails."""
    check_request(request)
    return json_response(request, {"status": "live"})


async def ready(request: Request) -> Response:
    check_request(request)
    state = services(request)
    lifecycle: Lifecycle = request.app.state.lifecycle
    checks = {
        "database": await _database(request),
        "catalog": OK if state.catalog.revision is not None else "not loaded yet",
        "local_models": OK if lifecycle.models_loaded else "the preloaded local models are not loaded yet",
        "draining": "the service is shutting down" if lifecycle.draining else OK,
    }
    failing = [name for name, result in checks.items() if result != OK]
    if failing:
        body = {"status": "not_ready", "failing": failing, "checks": checks}
        return json_response(request, body, status=503)
    return json_response(request, {"status": "ready", "checks": checks})


async def _database(request: Request) -> str:
    engine = services(request).engine
    try:
        async with asyncio.timeout(DATABASE_CHECK_TIMEOUT_S):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"unreachable: no answer within {DATABASE_CHECK_TIMEOUT_S:g}s"
    except Exception as exc:  # whatever the driver raises, the probe reports it as a reason
        return f"unreachable: {type(exc).__name__}"
    return OK
