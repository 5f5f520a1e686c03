"""Declarative routes: one :func:`resource` per path, one handler and one action per method.

Each method names the :class:`~inference_service.auth.roles.Action` it performs (None: public),
and the request is authorized for it (:func:`~inference_service.api.auth.authorize`) before
the handler runs, so no route can forget to check. A request carrying an
``Idempotency-Key`` claims it here, after authorization and before the handler
(:mod:`inference_service.api.idempotency`); one without pays one scope lookup.

Starlette answers a known path with an unknown method with 405 (and the ``Allow`` header of
that path's methods) and an unknown path with 404; each face renders both in its own format.
The :data:`ENDPOINT_ID` convertor matches one path segment except the literal action names,
so ``/_inference/x/_stream`` can never be read as the endpoint ``_stream`` of task type ``x``
whatever the method, nor ``PUT /_inference/_usage`` as creating an endpoint ``_usage`` (405).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp

from inference_service.api.auth import authorize
from inference_service.api.idempotency import PENDING, claim_key
from inference_service.auth.roles import Action

Handler = Callable[[Request], Awaitable[ASGIApp]]
"""A request handler: a Starlette ``Response`` or any ASGI app (a stream)."""
Method = tuple[Handler, Action | None]
"""A handler and the action it performs (None: served without a key, like ``GET /``)."""

ACTIONS = ("_update", "_stream", "_usage", "_services")


class EndpointIdConvertor(Convertor[str]):
    regex = "(?!(?:" + "|".join(ACTIONS) + ")(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


ENDPOINT_ID = "endpoint_id"
register_url_convertor(ENDPOINT_ID, EndpointIdConvertor())


class Resource(Route):
    """A :func:`resource` route; ``actions`` (method -> action, None: public) is what the OpenAPI
    document reads to tell which operations need a key."""

    def __init__(self, path: str, endpoint: Handler, actions: dict[str, Action | None]) -> None:
        super().__init__(path, endpoint, methods=list(actions))
        self.actions = actions


def resource(path: str, **methods: Method) -> Resource:
    """A route serving ``path`` with one handler per HTTP method (``GET=(handler, action)``)."""
    table = dict(methods)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])

    async def endpoint(request: Request) -> ASGIApp:
        handler, action = table[request.method]
        if action is not None:
            authorize(request, action)
        pending = request.scope.get(PENDING)
        if pending is not None:
            replay = await claim_key(request, pending, action)
            if replay is not None:
                return replay
        return await handler(request)

    endpoint.__name__ = endpoint.__qualname__ = "_".join(h.__name__ for h, _ in methods.values())
    return Resource(path, endpoint, {method: action for method, (_, action) in table.items()})
