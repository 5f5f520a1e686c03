"""The route table. Reads like the REST spec; the handlers live in their own modules.

``/_inference`` paths are ambiguous by segment count (``{task_type}/{id}`` vs ``{id}/_update``),
so each depth has one dispatcher that resolves the segments and the method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp

from inference_service.api.endpoints import (
    delete_endpoint,
    get_endpoints,
    put_endpoint,
    update_endpoint,
)
from inference_service.api.inference import perform_inference, stream_inference
from inference_service.api.info import root_info
from inference_service.errors import InvalidRequestError, MethodNotAllowedError
from inference_service.model.task_type import TaskType, parse_task_type

Handler = Callable[[Request, str, TaskType | None], Awaitable[ASGIApp]]

_ALL_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]


def _dispatch(request: Request, table: dict[str, Handler]) -> Handler:
    handler = table.get(request.method)
    if handler is None:
        allowed = ", ".join(sorted(table))
        raise MethodNotAllowedError(
            f"Incorrect HTTP method for uri [{request.url.path}] and method [{request.method}], "
            f"allowed: [{allowed}]"
        )
    return handler


_ENDPOINT_METHODS: dict[str, Handler] = {
    "GET": get_endpoints,
    "PUT": put_endpoint,
    "DELETE": delete_endpoint,
    "POST": perform_inference,
}
_UPDATE: dict[str, Handler] = {"PUT": update_endpoint}
_STREAM: dict[str, Handler] = {"POST": stream_inference}


async def inference_root(request: Request) -> ASGIApp:
    """``/_inference`` and ``/_inference/_all``."""
    return await _dispatch(request, {"GET": get_endpoints})(request, "_all", None)


async def inference_one(request: Request) -> ASGIApp:
    """``/_inference/{inference_id}``."""
    inference_id = request.path_params["first"]
    return await _dispatch(request, _ENDPOINT_METHODS)(request, inference_id, None)


async def inference_two(request: Request) -> ASGIApp:
    """``/_inference/{task_type}/{inference_id}`` or ``/_inference/{inference_id}/_update|_stream``."""
    first, second = request.path_params["first"], request.path_params["second"]
    if second == "_update":
        return await _dispatch(request, _UPDATE)(request, first, None)
    if second == "_stream":
        return await _dispatch(request, _STREAM)(request, first, None)
    return await _dispatch(request, _ENDPOINT_METHODS)(request, second, parse_task_type(first))


async def inference_three(request: Request) -> ASGIApp:
    """``/_inference/{task_type}/{inference_id}/_update`` and ``…/_stream``."""
    first, second, third = (request.path_params[k] for k in ("first", "second", "third"))
    table = {"_update": _UPDATE, "_stream": _STREAM}.get(third)
    if table is None:
        raise _no_handler(request)
    return await _dispatch(request, table)(request, second, parse_task_type(first))


async def not_found(request: Request) -> ASGIApp:
    raise _no_handler(request)


def _no_handler(request: Request) -> InvalidRequestError:
    return InvalidRequestError(
        f"no handler found for uri [{request.url.path}] and method [{request.method}]",
        es_type="illegal_argument_exception",
    )


ROUTES = [
    Route("/", root_info, methods=["GET", "HEAD"]),
    Route("/_inference", inference_root, methods=_ALL_METHODS),
    Route("/_inference/_all", inference_root, methods=_ALL_METHODS),
    Route("/_inference/{first}", inference_one, methods=_ALL_METHODS),
    Route("/_inference/{first}/{second}", inference_two, methods=_ALL_METHODS),
    Route("/_inference/{first}/{second}/{third}", inference_three, methods=_ALL_METHODS),
    Route("/{path:path}", not_found, methods=_ALL_METHODS),
]
