"""Declarative routes: one :func:`resource` per path, one handler per method.

Starlette answers a known path with an unknown method with 405 (and the ``Allow`` header of
that path's methods) and an unknown path with 404; each face renders both in its own format.
The :data:`ENDPOINT_ID` convertor matches one path segment except the literal action names,
so ``/_inference/x/_stream`` can never be read as the endpoint ``_stream`` of task type ``x``
whatever the method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp

Handler = Callable[[Request], Awaitable[ASGIApp]]
"""A request handler: a Starlette ``Response`` or any ASGI app (a stream)."""

ACTIONS = ("_update", "_stream")


class EndpointIdConvertor(Convertor[str]):
    regex = "(?!(?:" + "|".join(ACTIONS) + ")(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


ENDPOINT_ID = "endpoint_id"
register_url_convertor(ENDPOINT_ID, EndpointIdConvertor())


def resource(path: str, **handlers: Handler) -> Route:
    """A route serving ``path`` with one handler per HTTP method (``GET=…, PUT=…``)."""
    table = dict(handlers)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])

    async def endpoint(request: Request) -> ASGIApp:
        return await table[request.method](request)

    endpoint.__name__ = endpoint.__qualname__ = "_".join(h.__name__ for h in handlers.values())
    return Route(path, endpoint, methods=list(table))
