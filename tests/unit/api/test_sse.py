"""SSE framing of our own responses: exact bytes, the BOM variant, and a round trip through
the spec-compliant decoder that providers use."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference_service.api.sse import (
    BOM,
    BOM_DONE_FRAME,
    DONE_FRAME,
    SSE_HEADERS,
    SSE_RAW_HEADERS,
    done_frame,
    error_frame,
    message_frame,
)
from inference_service.sse_decoder import ServerSentEvent, SSEDecoder

CHUNK = b'{"completion":[{"delta":"Elastic is"}]}'
ERROR = b'{"error":{"code":"stream_error","message":"boom","type":"error"}}'


def decode(stream: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = decoder.feed(stream)
    decoder.close()
    return events


def test_message_frame_bytes() -> None:
    assert message_frame(CHUNK) == b"event: message\ndata: " + CHUNK + b"\n\n"


def test_error_frame_bytes() -> None:
    assert error_frame(ERROR) == b"event: error\ndata: " + ERROR + b"\n\n"


def test_done_frame_bytes() -> None:
    assert DONE_FRAME == b"event: message\ndata: [DONE]\n\n"
    assert done_frame() is DONE_FRAME


def test_bom_variant_puts_the_bom_before_every_frame() -> None:
    assert "\ufeff".encode() == BOM
    assert message_frame(CHUNK, bom=True) == b"\xef\xbb\xbfevent: message\ndata: " + CHUNK + b"\n\n"
    assert error_frame(ERROR, bom=True) == b"\xef\xbb\xbfevent: error\ndata: " + ERROR + b"\n\n"
    assert BOM_DONE_FRAME == b"\xef\xbb\xbfevent: message\ndata: [DONE]\n\n"
    assert done_frame(bom=True) is BOM_DONE_FRAME


def test_headers() -> None:
    assert dict(SSE_HEADERS) == {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
        "x-elastic-product": "Elasticsearch",
    }
    assert SSE_RAW_HEADERS == (
        (b"content-type", b"text/event-stream"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
        (b"x-elastic-product", b"Elasticsearch"),
    )
    with pytest.raises(TypeError):
        SSE_HEADERS["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize("bad", [b'{"a":\n1}', b'{"a":1}\r', b"\r\n", b"[DONE]\n\nevent: x"])
@pytest.mark.parametrize("frame", [message_frame, error_frame])
def test_multi_line_data_is_refused(bad: bytes, frame: object) -> None:
    with pytest.raises(ValueError, match="single line"):
        frame(bad)  # type: ignore[operator]


def test_empty_data_is_a_valid_frame() -> None:
    assert decode(message_frame(b"")) == [ServerSentEvent(data="")]


def test_round_trip_without_bom() -> None:
    stream = message_frame(CHUNK) + message_frame(b'{"x":"\\u00e9"}') + DONE_FRAME
    assert decode(stream) == [
        ServerSentEvent(data=CHUNK.decode()),
        ServerSentEvent(data='{"x":"\\u00e9"}'),
        ServerSentEvent(data="[DONE]"),
    ]
    assert decode(message_frame(CHUNK) + error_frame(ERROR)) == [
        ServerSentEvent(data=CHUNK.decode()),
        ServerSentEvent(event="error", data=ERROR.decode()),
    ]


def test_round_trip_with_bom_keeps_data_but_loses_later_event_types() -> None:
    # Elasticsearch-compatible bytes: a spec parser strips only the first BOM, so later frames
    # start with the unknown field "\ufeffevent" and their type falls back to "message".
    stream = message_frame(CHUNK, bom=True) + error_frame(ERROR, bom=True)
    assert decode(stream) == [
        ServerSentEvent(data=CHUNK.decode()),
        ServerSentEvent(event="message", data=ERROR.decode()),
    ]
    assert decode(error_frame(ERROR, bom=True)) == [ServerSentEvent(event="error", data=ERROR.decode())]
    assert decode(message_frame(CHUNK, bom=True) + done_frame(bom=True))[-1].data == "[DONE]"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_json, max_size=5), st.booleans())
def test_msgspec_json_round_trips_through_frames(values: list[object], bom: bool) -> None:
    """Compact msgspec JSON is always one line (control characters in strings are escaped),
    so any value survives framing and decoding."""
    payloads = [msgspec.json.encode(v) for v in values]
    stream = b"".join(message_frame(p, bom=bom) for p in payloads) + done_frame(bom=bom)
    events = decode(stream)
    assert [msgspec.json.decode(e.data) for e in events[:-1]] == values
    assert events[-1].data == "[DONE]"
