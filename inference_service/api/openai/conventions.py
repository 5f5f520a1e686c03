"""The OpenAI face's HTTP conventions: JSON bodies in, JSON out, a request timeout header."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.bodies import read_body, require_body
from inference_service.errors import ParseError
from inference_service.inference.deadline import Deadline
from inference_service.inference.record import response_headers

_ENCODER = msgspec.json.Encoder()
JSON = "application/json"
TIMEOUT_HEADER = "x-request-timeout"
"""An Elasticsearch time value (``10s``, ``500ms``) that shortens the endpoint's default
timeout for this request (the OpenAI SDK's own timeout applies on the client's side)."""


async def read_json_body(request: Request, limit: int) -> bytes:
    return require_body(await read_body(request, limit))


def json_response(data: Any, status: int = 200) -> Response:
    return Response(_ENCODER.encode(data), status_code=status, media_type=JSON, headers=response_headers())


def request_deadline(request: Request, default: Deadline) -> Deadline:
    """The task's default deadline, shortened by :data:`TIMEOUT_HEADER` when it is shorter."""
    raw = request.headers.get(TIMEOUT_HEADER)
    if raw is None:
        return default
    try:
        asked = Deadline.parse(raw, default.seconds)
    except ParseError:
        raise ParseError(
            f"header [X-Request-Timeout] must be a time value such as [10s] or [500ms], got [{raw}]",
            param="X-Request-Timeout",
        ) from None
    return asked if asked.seconds < default.seconds else default
