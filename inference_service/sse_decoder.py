"""Incremental Server-Sent Events decoder: bytes in, :class:`ServerSentEvent` out.

The one decoder of the project: providers read their upstreams with it and the SDK
(:mod:`inference_service.client`) reads the service's own streams, so it lives outside
``providers`` (whose package imports every provider) and depends on msgspec only.

Implements the WHATWG HTML "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
in the shape of httpx's ``LineDecoder``: :meth:`SSEDecoder.feed` takes chunks split at any byte
boundary and returns the events they complete; :meth:`SSEDecoder.close` ends the stream.

The rules, as implemented:

- The stream is UTF-8. One leading BOM (``EF BB BF``) is stripped at the very start of the
  stream only; a BOM anywhere else stays part of its line (so ``\\ufeffevent: x`` is an
  unknown field and is ignored). Invalid UTF-8 becomes U+FFFD, as the spec's decoder does.
- Lines end with CRLF, LF or CR (a CRLF split across two chunks is one line end). Nothing else
  ends a line: unlike ``bytes.splitlines`` no VT, FF, FS, GS, RS, NEL, LS or PS.
- A blank line dispatches the event; a line starting with ``:`` is a comment; otherwise the
  field name is everything before the first ``:`` and the value everything after it, minus one
  leading space. A line without a colon is a field name with an empty value.
- ``data`` appends the value and a LF to the data buffer; ``event`` sets the event type;
  ``id`` sets the last event ID unless the value contains NUL; ``retry`` sets the reconnection
  time if the value is one or more ASCII digits; any other field is ignored.
- On a blank line an event is dispatched only if the data buffer is non-empty (so
  ``data:`` alone *does* dispatch an event with empty data), with the final LF removed. The
  event type and data buffers are then reset; the last event ID is **not** (spec: it is
  stream state), so every later event carries it until the server sets another.
- At end of stream an incomplete event is discarded. Callers need to tell a clean end from a
  cut-off upstream, so :meth:`SSEDecoder.close` raises :class:`TruncatedStreamError` when
  the bytes stopped inside an event (see :attr:`SSEDecoder.mid_event`).

Two documented choices where the spec has no event attribute or cannot apply:

- ``retry`` is exposed on each event as the reconnection time in effect when it was
  dispatched (``None`` until the server sent a valid one); like ``id`` it persists.
- A ``retry`` value too long for ``int()`` (more than 4300 digits) is ignored.

Hot path: the decoder works on ``bytes`` (CR/LF never occur inside a multi-byte UTF-8
sequence, so splitting before decoding is exact), compares field names as bytes, decodes only
the values it keeps, and decodes multi-line data once per event. A partial line is kept as a
list of pieces, so a long line arriving in many small chunks costs linear, not quadratic, time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import suppress

import msgspec

__all__ = ["SSEDecoder", "ServerSentEvent", "TruncatedStreamError", "iter_event_batches", "iter_events"]

_BOM = b"\xef\xbb\xbf"
_LF = b"\n"
_CR = b"\r"
_CRLF = b"\r\n"


class ServerSentEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One dispatched event.

    ``event`` is the event type (``"message"`` when the server sent none or an empty one);
    ``data`` is the data lines joined with ``"\\n"``; ``id`` is the last event ID in effect
    (``None`` until the server sent one); ``retry`` is the reconnection time in milliseconds
    in effect (``None`` until the server sent a valid one).
    """

    event: str = "message"
    data: str
    id: str | None = None
    retry: int | None = None


class TruncatedStreamError(Exception):
    """The event stream ended inside an event: a partial line, or fields not yet closed by the
    blank line that dispatches them. Per spec the incomplete event is discarded; providers
    turn this into an upstream error instead of treating the stream as complete."""


class SSEDecoder:
    """Incremental SSE decoder. Feed it every chunk, then call :meth:`close` once.

    >>> decoder = SSEDecoder()
    >>> decoder.feed(b"data: hel")
    []
    >>> decoder.feed(b"lo\\r\\n\\r\\n")
    [ServerSentEvent(event='message', data='hello', id=None, retry=None)]
    >>> decoder.close()
    """

    __slots__ = ("_data", "_event", "_fields", "_head", "_last_id", "_partial", "_retry", "_skip_lf")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._head: bytes | None = b""
        """Bytes seen before the BOM check is decided; ``None`` once it is."""
        self._skip_lf = False
        """The previous chunk ended with CR: a LF starting the next one belongs to it."""
        self._partial: list[bytes] = []
        """Pieces of the line not yet terminated (never contain CR or LF)."""
        self._data: list[bytes] = []
        self._event = b""
        self._fields = False
        """A field line was seen since the last blank line."""
        self._last_id: str | None = None
        self._retry: int | None = None

    @property
    def mid_event(self) -> bool:
        """True if the bytes fed so far stop inside an event: in the middle of a line (other
        than a comment), or after field lines that no blank line has closed yet."""
        if self._fields:
            return True
        if self._head:
            return True
        return bool(self._partial) and not self._partial[0].startswith(b":")

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events it completes (often none, sometimes several)."""
        if not chunk:
            return []
        if self._head is not None:
            head = self._head + chunk
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._head = head  # may still be a BOM: wait for more bytes
                return []
            self._head = None
            chunk = head[len(_BOM) :] if head.startswith(_BOM) else head
            if not chunk:
                return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if _CR in chunk:
            # Normalise CRLF and lone CR to LF. A CR at the very end may be the first half of
            # a CRLF whose LF arrives in the next chunk: it ends the line now (so the event is
            # dispatched without waiting), and that LF is skipped then.
            self._skip_lf = chunk[-1] == 0x0D
            chunk = chunk.replace(_CRLF, _LF).replace(_CR, _LF)
        if _LF not in chunk:
            self._partial.append(chunk)
            return []
        lines = chunk.split(_LF)
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = b"".join(self._partial)
            self._partial = []
        tail = lines.pop()
        if tail:
            self._partial.append(tail)
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = b""
                self._fields = False
            elif line[0] != 0x3A:  # not a ":" comment
                self._field(line)
        return events

    def close(self) -> None:
        """End of stream. Raises :class:`TruncatedStreamError` if it stopped inside an event
        (the incomplete event is discarded either way). Resets the decoder for reuse."""
        truncated = self.mid_event
        self._reset()
        if truncated:
            raise TruncatedStreamError("event stream ended in the middle of an event")

    def _field(self, line: bytes) -> None:
        self._fields = True
        if line.startswith(b"data"):  # fast path for the field that every event carries
            if len(line) == 4:
                self._data.append(b"")
                return
            if line[4] == 0x3A:
                self._data.append(line[6:] if line[5:6] == b" " else line[5:])
                return
        colon = line.find(b":")
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            value = line[colon + 2 :] if line[colon + 1 : colon + 2] == b" " else line[colon + 1 :]
        # ``data`` never gets here: the fast path above covers both of its spellings.
        if name == b"event":
            self._event = value
        elif name == b"id":
            if b"\x00" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():  # bytes: ASCII digits only; False for b""
            with suppress(ValueError):  # longer than sys.get_int_max_str_digits()
                self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        raw = data[0] if len(data) == 1 else _LF.join(data)
        self._data = []
        event = self._event
        self._event = b""
        return ServerSentEvent(
            event=event.decode("utf-8", "replace") if event else "message",
            data=raw.decode("utf-8", "replace"),
            id=self._last_id,
            retry=self._retry,
        )


async def iter_event_batches(chunks: AsyncIterable[bytes]) -> AsyncGenerator[list[ServerSentEvent], None]:
    """Like :func:`iter_events`, but one list per chunk that completed any event, so a
    consumer can handle (and forward) everything one network read brought in one go."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        events = decoder.feed(chunk)
        if events:
            yield events
    decoder.close()


async def iter_events(chunks: AsyncIterable[bytes]) -> AsyncGenerator[ServerSentEvent, None]:
    """Decode an async byte stream (e.g. ``response.aiter_bytes()``) into events.

    Raises :class:`TruncatedStreamError` after the last complete event if the stream ended
    inside an event. It does not close ``chunks``: the caller's ``async with`` owns it.
    """
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    decoder.close()
