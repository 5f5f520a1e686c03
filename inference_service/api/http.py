"""Request reading and response writing for the JSON API, with Elasticsearch's HTTP conventions.

One place for: the accepted media types (``application/json`` and the
``application/vnd.elasticsearch+json; compatible-with=8|9`` forms), the body size limit,
JSON decoding into plain maps, query-parameter checking, boolean parsing, ``pretty`` and
``filter_path``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from inference_service.errors import InvalidRequestError, NotAcceptableError, PayloadTooLargeError

COMMON_PARAMS = frozenset({"pretty", "human", "error_trace", "filter_path"})
_COMPAT = re.compile(r"application/vnd\.elasticsearch\+json\s*;.*compatible-with\s*=\s*(\d+)", re.I)
SUPPORTED_COMPAT = ("8", "9")
JSON_TYPE = "application/json"
PRODUCT = {"x-elastic-product": "Elasticsearch"}
"""On every response: the official client refuses a 2xx without it (reference §7.3)."""
_ENCODER = msgspec.json.Encoder()
_MAP_DECODER = msgspec.json.Decoder(dict[str, Any])


def check_request(request: Request, allowed: Iterable[str] = ()) -> None:
    """Reject unknown query parameters and unsupported compat versions, as Elasticsearch does."""
    _compat_version(request.headers.get("accept", ""))
    permitted = COMMON_PARAMS.union(allowed)
    unknown = [k for k in request.query_params if k not in permitted]
    if unknown:
        names = ", ".join(f"[{k}]" for k in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise InvalidRequestError(
            f"request [{request.url.path}] contains unrecognized parameter{plural}: {names}",
            es_type="illegal_argument_exception",
        )


def query_bool(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw in ("", "true"):
        return True
    if raw == "false":
        return False
    raise InvalidRequestError(
        f"Failed to parse value [{raw}] as only [true] or [false] are allowed.",
        es_type="illegal_argument_exception",
    )


def _compat_version(header: str) -> str | None:
    match = _COMPAT.search(header)
    if match is None:
        return None
    if match.group(1) not in SUPPORTED_COMPAT:
        raise InvalidRequestError(
            f"Unsupported compatible-with version [{match.group(1)}] in [{header}]; "
            f"supported: {', '.join(SUPPORTED_COMPAT)}",
            es_type="media_type_header_exception",
        )
    return match.group(1)


def check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE:
        return
    if media == "application/vnd.elasticsearch+json" and _compat_version(content_type):
        return
    raise NotAcceptableError(
        f"Content-Type header [{content_type}] is not supported; use [{JSON_TYPE}]",
        es_type="media_type_header_exception",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes before reading it all (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"Request body is too large; the limit is [{limit}] bytes (setting max_body_bytes)",
        es_type="content_too_long_exception",
    )


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """Decode a required JSON object body into a plain map."""
    body = await read_body(request, limit)
    if not body.strip():
        raise InvalidRequestError("request body is required", es_type="parse_exception")
    check_content_type(request)
    return decode_json_object(body)


def decode_json_object(body: bytes) -> dict[str, Any]:
    try:
        return _MAP_DECODER.decode(body)
    except msgspec.ValidationError:
        raise InvalidRequestError(
            "request body must be a JSON object", es_type="x_content_parse_exception"
        ) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            f"Failed to parse the request body as JSON: {exc}", es_type="x_content_parse_exception"
        ) from None


def response_media_type(request: Request) -> str:
    """The compat media type the client asked for, else JSON. Never raises: error responses
    use it too (an unsupported version was already refused by :func:`check_request`)."""
    for header in ("accept", "content-type"):
        match = _COMPAT.search(request.headers.get(header, ""))
        if match is not None and match.group(1) in SUPPORTED_COMPAT:
            return f"application/vnd.elasticsearch+json;compatible-with={match.group(1)}"
    return JSON_TYPE


def json_response(request: Request, data: Any, status: int = 200) -> Response:
    """A JSON response honouring ``filter_path``, ``pretty`` and the compat media type."""
    filter_path = request.query_params.get("filter_path")
    if filter_path:
        data = apply_filter_path(data, filter_path)
    body = _ENCODER.encode(data)
    if "pretty" in request.query_params and request.query_params["pretty"] != "false":
        body = msgspec.json.format(body, indent=2) + b"\n"
    return Response(body, status_code=status, media_type=response_media_type(request), headers=PRODUCT)


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
