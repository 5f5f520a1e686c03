"""Server-Sent Events framing for our ``_stream`` responses, as Elasticsearch frames them.

Every frame is ``event: message`` (or ``event: error``), one ``data:`` line, and a blank line::

    event: message\\n
    data: {"completion":[{"delta":"Elastic is"}]}\\n
    \\n

A normal stream ends with :data:`DONE_FRAME` (``data: [DONE]``); after an error frame the
stream ends without it. No ``id:``/``retry:`` lines, no keep-alive comments.

BOM: Elasticsearch writes a UTF-8 BOM before *every* frame. Spec-compliant parsers strip a BOM
only at stream start, so from the second frame on they see a field named ``\\ufeffevent``,
ignore it and fall back to the type ``message`` (even for error frames); the ``data:`` line
still parses. Our default is no BOM (standards-friendly); ``bom=True`` reproduces the
Elasticsearch bytes for clients that compare them.

Data must be one line: :func:`message_frame` and :func:`error_frame` take already-encoded JSON
and raise :class:`ValueError` if it holds a CR or LF (a raw line break would end the ``data:``
line and corrupt the stream). Compact ``msgspec.json.encode`` output never does: it writes no
whitespace between tokens and escapes control characters inside strings (``\\n`` as ``\\\\n``).
Pretty-printed JSON would, so ``?pretty`` must not reach this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "BOM",
    "BOM_DONE_FRAME",
    "DONE_FRAME",
    "OPENAI_FRAMING",
    "SSE_HEADERS",
    "SSE_RAW_HEADERS",
    "Framing",
    "data_frame",
    "done_frame",
    "error_frame",
    "es_framing",
    "message_frame",
]

BOM: Final = b"\xef\xbb\xbf"
"""UTF-8 byte order mark; Elasticsearch writes it before every frame."""

_MESSAGE: Final = b"event: message\ndata: "
_ERROR: Final = b"event: error\ndata: "
_BOM_MESSAGE: Final = BOM + _MESSAGE
_BOM_ERROR: Final = BOM + _ERROR
_END: Final = b"\n\n"

DONE_FRAME: Final = _MESSAGE + b"[DONE]" + _END
"""``event: message\\ndata: [DONE]\\n\\n``: the last frame of a stream that did not fail."""
BOM_DONE_FRAME: Final = BOM + DONE_FRAME

SSE_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",  # tell nginx-style proxies not to buffer the stream
        "x-elastic-product": "Elasticsearch",  # the official client refuses a 2xx without it
    }
)
"""Response headers of every SSE response."""
SSE_RAW_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = tuple(
    (name.encode("latin-1"), value.encode("latin-1")) for name, value in SSE_HEADERS.items()
)
""":data:`SSE_HEADERS` in ASGI form (lower-case byte pairs)."""


def _check_single_line(data: bytes) -> None:
    if b"\n" in data or b"\r" in data:
        raise ValueError("SSE data must be a single line (compact JSON); it contains CR or LF")


def message_frame(data: bytes, *, bom: bool = False) -> bytes:
    """``event: message\\ndata: <data>\\n\\n``; ``data`` is compact JSON (one line)."""
    _check_single_line(data)
    return b"".join((_BOM_MESSAGE if bom else _MESSAGE, data, _END))


def error_frame(data: bytes, *, bom: bool = False) -> bytes:
    """``event: error\\ndata: <data>\\n\\n``; ``data`` is the compact JSON error body."""
    _check_single_line(data)
    return b"".join((_BOM_ERROR if bom else _ERROR, data, _END))


def done_frame(*, bom: bool = False) -> bytes:
    """:data:`DONE_FRAME`, or :data:`BOM_DONE_FRAME` when ``bom``."""
    return BOM_DONE_FRAME if bom else DONE_FRAME


def data_frame(data: bytes) -> bytes:
    """``data: <data>\n\n``: OpenAI's data-only frame (no ``event:`` line)."""
    _check_single_line(data)
    return b"".join((b"data: ", data, _END))


RawHeaders = tuple[tuple[bytes, bytes], ...]


def _raw(headers: Mapping[str, str]) -> RawHeaders:
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())


@dataclass(frozen=True, slots=True)
class Framing:
    """How one API face frames its event stream.

    ``message`` and ``error`` frame a payload once the stream has started; ``refusal`` frames
    the error body of a request refused before it started (sent with ``refusal_headers`` and
    the error's status); ``done`` ends a stream that did not fail.
    """

    message: Callable[[bytes], bytes]
    error: Callable[[bytes], bytes]
    done: bytes
    headers: RawHeaders
    refusal: Callable[[bytes], bytes]
    refusal_headers: RawHeaders


def es_framing(bom: bool) -> Framing:
    """Elasticsearch's ``event: message`` / ``event: error`` frames (with its BOM when asked);
    a refused request is its status and one error frame."""

    def message(data: bytes) -> bytes:
        return message_frame(data, bom=bom)

    def error(data: bytes) -> bytes:
        return error_frame(data, bom=bom)

    return Framing(message, error, done_frame(bom=bom), SSE_RAW_HEADERS, error, SSE_RAW_HEADERS)


OPENAI_FRAMING: Final = Framing(
    message=data_frame,
    error=data_frame,
    done=b"data: [DONE]\n\n",
    headers=_raw(
        {"content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no"}
    ),
    refusal=lambda data: data,
    refusal_headers=_raw({"content-type": "application/json"}),
)
"""OpenAI's data-only frames; a request refused before the stream started is a JSON error."""
