"""Elasticsearch's HTTP conventions, for the Elasticsearch face.

One place for: the accepted media types (``application/json`` and the
``application/vnd.elasticsearch+json; compatible-with=8|9`` forms), query-parameter checking,
boolean parsing, JSON responses with ``pretty`` and ``filter_path``, and the product header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from inference_service.api.bodies import read_body, require_body
from inference_service.errors import IllegalArgumentError, MediaTypeError, NotAcceptableError
from inference_service.inference.record import response_headers

COMMON_PARAMS = frozenset({"pretty", "human", "error_trace", "filter_path"})
_COMPAT = re.compile(r"application/vnd\.elasticsearch\+json\s*;.*compatible-with\s*=\s*(\d+)", re.I)
SUPPORTED_COMPAT = ("8", "9")
JSON_TYPE = "application/json"
PRODUCT = {"x-elastic-product": "Elasticsearch"}
"""On every response: the official client refuses a 2xx without it."""
_ENCODER = msgspec.json.Encoder()


def check_request(request: Request, allowed: Iterable[str] = ()) -> None:
    """Reject unknown query parameters and unsupported compat versions, as Elasticsearch does."""
    _compat_version(request.headers.get("accept", ""))
    permitted = COMMON_PARAMS.union(allowed)
    unknown = [k for k in request.query_params if k not in permitted]
    if unknown:
        names = ", ".join(f"[{k}]" for k in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise IllegalArgumentError(
            f"request [{request.url.path}] contains unrecognized parameter{plural}: {names}"
        )


def query_bool(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw in ("", "true"):
        return True
    if raw == "false":
        return False
    raise IllegalArgumentError(f"Failed to parse value [{raw}] as only [true] or [false] are allowed.")


def _compat_version(header: str) -> str | None:
    match = _COMPAT.search(header)
    if match is None:
        return None
    if match.group(1) not in SUPPORTED_COMPAT:
        raise MediaTypeError(
            f"Unsupported compatible-with version [{match.group(1)}] in [{header}]; "
            f"supported: {', '.join(SUPPORTED_COMPAT)}"
        )
    return match.group(1)


def check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE:
        return
    if media == "application/vnd.elasticsearch+json" and _compat_version(content_type):
        return
    raise NotAcceptableError(f"Content-Type header [{content_type}] is not supported; use [{JSON_TYPE}]")


async def read_json_body(request: Request, limit: int) -> bytes:
    """A required JSON body: present (``parse_exception`` otherwise), then of a JSON media type."""
    body = require_body(await read_body(request, limit))
    check_content_type(request)
    return body


def response_media_type(request: Request) -> str:
    """The compat media type the client asked for, else JSON. Never raises: error responses
    use it too (an unsupported version was already refused by :func:`check_request`)."""
    for header in ("accept", "content-type"):
        match = _COMPAT.search(request.headers.get(header, ""))
        if match is not None and match.group(1) in SUPPORTED_COMPAT:
            return f"application/vnd.elasticsearch+json;compatible-with={match.group(1)}"
    return JSON_TYPE


def json_response(
    request: Request, data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response honouring ``filter_path``, ``pretty`` and the compat media type."""
    filter_path = request.query_params.get("filter_path")
    if filter_path:
        data = apply_filter_path(data, filter_path)
    body = _ENCODER.encode(data)
    if "pretty" in request.query_params and request.query_params["pretty"] != "false":
        body = msgspec.json.format(body, indent=2) + b"\n"
    return Response(
        body,
        status_code=status,
        media_type=response_media_type(request),
        headers={**PRODUCT, **(headers or {}), **response_headers()},
    )


def apply_filter_path(data: Any, filter_path: str) -> Any:
    """Elasticsearch's ``filter_path``: comma-separated dotted paths, ``*`` matches one key."""
    patterns = [p.split(".") for p in filter_path.split(",") if p]
    result = _filter(data, patterns)
    return {} if result is None else result


def _filter(data: Any, patterns: list[list[str]]) -> Any:
    if any(not p for p in patterns):
        return data
    if isinstance(data, list):
        items = [_filter(item, patterns) for item in data]
        kept = [i for i in items if i is not None]
        return kept or None
    if not isinstance(data, dict):
        return None
    out = {}
    for key, value in data.items():
        rest = [p[1:] for p in patterns if p[0] in ("*", "**", key)]
        rest += [p for p in patterns if p[0] == "**"]
        if rest:
            kept = _filter(value, rest)
            if kept is not None:
                out[key] = kept
    return out or None
