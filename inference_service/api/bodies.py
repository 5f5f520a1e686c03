"""The one body decoder: a request's bytes -> a typed value, every failure a 400.

This is the only place a ``msgspec.ValidationError`` (wrong type, unknown field, value out of
range) becomes a client error, with msgspec's message and its JSON path, and the only place
the "request body is required" rule lives. Bodies are bounded (413 beyond ``max_body_bytes``,
refused before they are read whole) and so is their nesting: msgspec stops at about a
thousand levels with a ``RecursionError``, and untyped maps are refused past
:data:`~inference_service.model.nesting.MAX_NESTING` levels, so no later recursive step
(rendering, storing, re-encoding) can fail on them.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from inference_service.errors import ContentParseError, ContentTooLongError, ParseError
from inference_service.model.nesting import MAX_NESTING, nesting_exceeds

T = TypeVar("T")
_MAP_DECODER = msgspec.json.Decoder(dict[str, Any])


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes before reading it all (413).

    The bytes are kept on ``request.state`` and a second call returns them: the idempotency
    layer reads the body to fingerprint it before the handler reads it again.
    """
    cached: bytes | None = getattr(request.state, "body", None)
    if cached is not None:
        return cached
    request.state.body_read = True
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
    body = b"".join(chunks)
    request.state.body = body
    return body


async def discard_unread_body(request: Request, limit: int) -> None:
    """Read and drop a body no handler read (the request failed before it), up to ``limit``
    bytes, so the connection can serve the client's next request: an HTTP/1.1 server that
    answers without reading the body has to close the connection, and a keep-alive client that
    already sent its next request on it sees "server disconnected"."""
    if getattr(request.state, "body_read", False):
        return
    request.state.body_read = True
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return


def _too_large(limit: int) -> ContentTooLongError:
    return ContentTooLongError(
        f"Request body is too large; the limit is [{limit}] bytes (setting max_body_bytes)"
    )


def require_body(body: bytes) -> bytes:
    """``body`` unless it is empty or blank."""
    if not body.strip():
        raise ParseError("request body is required")
    return body


def decode_json(body: bytes, decoder: msgspec.json.Decoder[T], label: str) -> T:
    """Strictly decode ``body``; ``label`` names the document in messages (``[label] …``)."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ContentParseError(f"[{label}] {exc}", param=json_path(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ContentParseError(f"[{label}] malformed JSON: {exc}") from None
    except RecursionError:
        raise ContentParseError(f"[{label}] malformed JSON: nested too deeply") from None


def decode_json_object(body: bytes, label: str) -> dict[str, Any]:
    """A JSON object as a plain map, at most :data:`MAX_NESTING` levels deep."""
    value = decode_json(body, _MAP_DECODER, label)
    if nesting_exceeds(value, MAX_NESTING):
        raise ContentParseError(f"[{label}] nests deeper than {MAX_NESTING} levels")
    return value


def json_path(exc: msgspec.ValidationError) -> str | None:
    """The ``$.a.b[0]`` path msgspec puts at the end of its message, if any; for an unknown or
    a missing field, the path of that field itself (msgspec names the object holding it)."""
    text = str(exc)
    marker = " - at `"
    path = text[text.index(marker) + len(marker) : -1] if marker in text else None
    named = _NAMED_FIELD.match(text)
    if named is not None:
        return f"{path or '$'}.{named.group(1)}"
    return path


_NAMED_FIELD = re.compile(r"Object (?:contains unknown|missing required) field `([^`]*)`")
