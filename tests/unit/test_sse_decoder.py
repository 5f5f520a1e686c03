"""The SSE decoder against the WHATWG event stream interpretation rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference_service.sse_decoder import (
    ServerSentEvent,
    SSEDecoder,
    TruncatedStreamError,
    iter_events,
)

BOM = b"\xef\xbb\xbf"


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    """Feed the chunks in order, then close (which must not raise)."""
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    decoder.close()
    return events


def data(events: Iterable[ServerSentEvent]) -> list[str]:
    return [event.data for event in events]


def bytewise(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


# --- line endings --------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_line_endings(eol: bytes) -> None:
    stream = b"event: a" + eol + b"data: 1" + eol + eol + b"data: 2" + eol + eol
    expected = [ServerSentEvent(event="a", data="1"), ServerSentEvent(data="2")]
    assert decode(stream) == expected
    assert decode(*bytewise(stream)) == expected


def test_mixed_line_endings() -> None:
    assert data(decode(b"data: a\r\ndata: b\rdata: c\n\r\n")) == ["a\nb\nc"]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n\r") == [ServerSentEvent(data="a\nb")]
    assert decoder.feed(b"\n") == []  # the LF of the CRLF that dispatched: not another blank line
    assert decoder.feed(b"data: c\n\n") == [ServerSentEvent(data="c")]
    decoder.close()


def test_cr_at_chunk_end_dispatches_without_waiting_for_the_next_chunk() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ServerSentEvent(data="a")]
    assert decoder.feed(b"data: b\r\r") == [ServerSentEvent(data="b")]
    decoder.close()


def test_cr_cr_lf_is_two_line_ends() -> None:
    assert data(decode(b"data: a\r\r\n")) == ["a"]
    assert data(decode(b"data: a\r", b"\r", b"\n")) == ["a"]


def test_lone_lf_after_cr_crlf_is_a_blank_line() -> None:
    # "\r\n" then "\n": the second LF is a line end of its own (a blank line).
    assert data(decode(b"data: a\r\n", b"\n")) == ["a"]


def test_only_cr_and_lf_end_lines() -> None:
    # bytes.splitlines() would also split on these; the SSE spec does not.
    others = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    stream = f"data: a{others}b\n\n".encode()
    assert data(decode(stream)) == [f"a{others}b"]


# --- fields --------------------------------------------------------------------------------


def test_multi_line_data_is_joined_with_lf() -> None:
    assert data(decode(b"data: a\ndata: b\ndata:\ndata: c\n\n")) == ["a\nb\n\nc"]


def test_data_without_space_and_only_one_space_removed() -> None:
    assert data(decode(b"data:a\n\n", b"data:  two\n\n", b"data:\tx\n\n")) == ["a", " two", "\tx"]


def test_empty_data_dispatches_an_event_with_empty_data() -> None:
    assert decode(b"data:\n\n") == [ServerSentEvent(data="")]
    assert decode(b"data\n\n") == [ServerSentEvent(data="")]
    assert decode(b"data:\ndata:\n\n") == [ServerSentEvent(data="\n")]


def test_no_data_no_event() -> None:
    assert decode(b"event: ping\n\n", b"\n\n", b"id: 1\n\n", b"retry: 5\n\n") == []


def test_event_type_is_reset_after_each_blank_line() -> None:
    stream = b"event: a\n\ndata: 1\n\nevent: b\ndata: 2\n\ndata: 3\n\nevent:\ndata: 4\n\n"
    events = decode(stream)
    assert [(e.event, e.data) for e in events] == [
        ("message", "1"),  # the first block had no data, so its event type was dropped
        ("b", "2"),
        ("message", "3"),
        ("message", "4"),  # an empty event type means "message"
    ]


def test_last_event_type_wins() -> None:
    assert decode(b"event: a\nevent: b\ndata: x\n\n") == [ServerSentEvent(event="b", data="x")]


def test_comments_are_ignored() -> None:
    stream = b": hello\n:\n:data: no\ndata: yes\n: between\n\n: keep-alive\n\n"
    assert decode(stream) == [ServerSentEvent(data="yes")]


def test_field_without_colon_has_an_empty_value() -> None:
    assert decode(b"data\nevent\n\n") == [ServerSentEvent(data="")]
    assert decode(b"event: a\nevent\ndata: x\n\n") == [ServerSentEvent(data="x")]


def test_value_is_everything_after_the_first_colon() -> None:
    assert data(decode(b'data: {"a": "b:c"}\n\n')) == ['{"a": "b:c"}']
    assert decode(b"event: a:b\ndata: x\n\n") == [ServerSentEvent(event="a:b", data="x")]


def test_unknown_and_misspelt_fields_are_ignored() -> None:
    stream = b"foo: bar\nDATA: up\ndata : spaced\ndatum: x\n data: lead\ndata: ok\n\n"
    assert decode(stream) == [ServerSentEvent(data="ok")]


# --- id ------------------------------------------------------------------------------------


def test_id_persists_until_the_server_changes_it() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\ndata: d\n\n"
    assert [(e.id, e.data) for e in decode(stream)] == [
        ("1", "a"),
        ("1", "b"),  # not reset by dispatch
        ("", "c"),  # "id" with no value resets it to the empty string
        ("2", "d"),  # set by a block with no data
    ]


def test_id_with_nul_is_ignored() -> None:
    events = decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_no_id_is_none() -> None:
    assert decode(b"data: a\n\n")[0].id is None


# --- retry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"1000", 1000),
        (b"0", 0),
        (b"007", 7),
        (b"", None),
        (b" 100", None),  # only one leading space is removed: " 100" is not all digits
        (b"100 ", None),
        (b"-1", None),
        (b"+1", None),
        (b"1.5", None),
        (b"1e3", None),
        (b"0x10", None),
        ("١٢".encode(), None),  # Arabic-Indic digits are digits, but not ASCII digits
        ("²".encode(), None),
        (b"1" * 5000, None),  # beyond int()'s digit limit: ignored rather than crashing
    ],
)
def test_retry_only_if_all_ascii_digits(value: bytes, expected: int | None) -> None:
    assert decode(b"retry: " + value + b"\ndata: x\n\n")[0].retry == expected


def test_retry_persists_and_invalid_values_keep_the_previous_one() -> None:
    stream = b"retry: 10\n\ndata: a\n\nretry: x\ndata: b\n\nretry: 20\ndata: c\n\n"
    assert [e.retry for e in decode(stream)] == [10, 10, 20]


# --- BOM and UTF-8 -------------------------------------------------------------------------


def test_bom_at_stream_start_is_stripped() -> None:
    assert decode(BOM + b"event: a\ndata: x\n\n") == [ServerSentEvent(event="a", data="x")]


def test_bom_split_across_chunks_is_stripped() -> None:
    assert decode(*bytewise(BOM + b"event: a\ndata: x\n\n")) == [ServerSentEvent(event="a", data="x")]
    assert decode(BOM[:2], BOM[2:] + b"data: x\n\n") == [ServerSentEvent(data="x")]


def test_only_one_bom_is_stripped() -> None:
    # The second BOM makes the first line the unknown field "\ufeffdata".
    assert decode(BOM + BOM + b"data: x\n\ndata: y\n\n") == [ServerSentEvent(data="y")]


def test_bom_not_at_stream_start_is_part_of_the_field_name() -> None:
    # What Elasticsearch's BOM-before-every-frame looks like to a spec-compliant parser.
    stream = BOM + b"event: error\ndata: 1\n\n" + BOM + b"event: error\ndata: 2\n\n"
    assert decode(stream) == [
        ServerSentEvent(event="error", data="1"),
        ServerSentEvent(event="message", data="2"),  # "\ufeffevent" is an unknown field
    ]
    assert decode(BOM + b"data: 1\n\n" + BOM + b"data: 2\n\n") == [ServerSentEvent(data="1")]


def test_bom_inside_a_value_is_kept() -> None:
    assert data(decode(b"data: \xef\xbb\xbfx\n\n")) == ["\ufeffx"]


def test_stream_starting_like_a_bom_but_not_one() -> None:
    assert data(decode(b"\xef", b"\xbbx\n\ndata: y\n\n")) == ["y"]  # invalid UTF-8 line, ignored
    assert data(decode(b"\xef\xbb", b"\xbe\n\ndata: z\n\n")) == ["z"]


def test_utf8_char_split_across_chunks() -> None:
    text = "héllo — 日本 🎉"
    stream = f"event: é\ndata: {text}\nid: ü\n\n".encode()
    expected = [ServerSentEvent(event="é", data=text, id="ü")]
    assert decode(stream) == expected
    assert decode(*bytewise(stream)) == expected
    cut = stream.index("🎉".encode()) + 2
    assert decode(stream[:cut], stream[cut:]) == expected


def test_invalid_utf8_becomes_replacement_character() -> None:
    assert data(decode(b"data: a\xffb\xe6\x97\n\n")) == ["a\ufffdb\ufffd"]


def test_nul_in_data_is_kept() -> None:
    assert data(decode(b"data: a\x00b\n\n")) == ["a\x00b"]


# --- end of stream -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream",
    [
        b"data: a",  # partial line
        b"data: a\n",  # field line, no blank line yet
        b"data: a\r",
        b"data: a\r\n",
        b"data: a\n\ndata: b\n",
        b"event: x\n",  # no data yet, but inside an event block all the same
        b"id: 1\n",
        b"da",
        BOM[:2],
        b"data: a\n: comment\n",
    ],
)
def test_truncated_final_event_is_discarded_and_reported(stream: bytes) -> None:
    decoder = SSEDecoder()
    events = decoder.feed(stream)
    assert all(e.data == "a" for e in events)
    assert decoder.mid_event
    with pytest.raises(TruncatedStreamError):
        decoder.close()


@pytest.mark.parametrize(
    "stream",
    [
        b"",
        b"data: a\n\n",
        b"data: a\r\r",
        b"data: a\r\n\r",  # the LF that may follow is irrelevant
        b"data: a\n\n: keep-alive\n",
        b"data: a\n\n: unterminated comment",
        b": only a comment\n",
        BOM,
        b"\n\n\n",
    ],
)
def test_clean_end(stream: bytes) -> None:
    decoder = SSEDecoder()
    decoder.feed(stream)
    assert not decoder.mid_event
    decoder.close()


def test_close_resets_the_decoder() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\nretry: 5\ndata: partial")
    with pytest.raises(TruncatedStreamError):
        decoder.close()
    decoder.close()  # reset: now clean
    assert decoder.feed(BOM + b"data: x\n\n") == [ServerSentEvent(data="x")]


def test_empty_chunks_change_nothing() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n") == []  # still the LF of the pending CRLF
    assert decoder.feed(b"\n") == [ServerSentEvent(data="a")]


def test_long_line_in_many_chunks() -> None:
    payload = b"x" * 100_000
    chunks = [b"data: "] + [payload[i : i + 7] for i in range(0, len(payload), 7)] + [b"\n\n"]
    assert data(decode(*chunks)) == [payload.decode()]


# --- iter_events ---------------------------------------------------------------------------


async def _aiter(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _collect(chunks: Iterable[bytes]) -> list[ServerSentEvent]:
    return [event async for event in iter_events(_aiter(chunks))]


def test_iter_events() -> None:
    chunks = [b"data: a\n", b"\nevent: e\ndata: b\r", b"\n\r\n"]
    events = asyncio.run(_collect(chunks))
    assert events == [ServerSentEvent(data="a"), ServerSentEvent(event="e", data="b")]


def test_iter_events_yields_complete_events_then_raises_on_truncation() -> None:
    seen: list[ServerSentEvent] = []

    async def run() -> None:
        async for event in iter_events(_aiter([b"data: a\n\ndata: b\n"])):
            seen.append(event)

    with pytest.raises(TruncatedStreamError):
        asyncio.run(run())
    assert seen == [ServerSentEvent(data="a")]


# --- properties ----------------------------------------------------------------------------

_EOLS = (b"\n", b"\r", b"\r\n")
_value = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)


@dataclass(frozen=True)
class Block:
    """One event block to serialize; it dispatches an event only if it has data lines."""

    data: list[str]
    event: str | None
    id: str | None
    retry: int | None
    comments: list[str]
    unknown: list[tuple[str, str]]


_block = st.builds(
    Block,
    data=st.lists(_value, max_size=3),
    event=st.none() | _value,
    id=st.none() | _value,
    retry=st.none() | st.integers(0, 10**12),
    comments=st.lists(_value, max_size=2),
    unknown=st.lists(st.tuples(st.sampled_from(["foo", "Data", "ids"]), _value), max_size=1),
)


@st.composite
def event_streams(draw: st.DrawFn) -> tuple[bytes, list[ServerSentEvent]]:
    """A serialized stream with arbitrary line endings and field order, and its events."""
    blocks = draw(st.lists(_block, max_size=6))
    rnd = draw(st.randoms(use_true_random=False))
    lines: list[str] = []
    expected: list[ServerSentEvent] = []
    last_id: str | None = None
    retry: int | None = None

    def field(name: str, value: str) -> str:
        if value.startswith(" ") or rnd.random() < 0.5:
            return f"{name}: {value}"
        return f"{name}:{value}" if value or rnd.random() < 0.5 else name

    for block in blocks:
        others = [field("event", block.event)] if block.event is not None else []
        if block.id is not None:
            others.append(field("id", block.id))
            if "\x00" not in block.id:
                last_id = block.id
        if block.retry is not None:
            others.append(field("retry", str(block.retry)))
            retry = block.retry
        others += [":" + c for c in block.comments]
        others += [field(name, value) for name, value in block.unknown]
        block_lines = [field("data", v) for v in block.data]
        for line in others:  # interleave, keeping the data lines in order
            block_lines.insert(rnd.randint(0, len(block_lines)), line)
        lines += [*block_lines, ""]
        if block.data:
            event = block.event or "message"
            expected.append(ServerSentEvent(event=event, data="\n".join(block.data), id=last_id, retry=retry))

    out = [BOM] if draw(st.booleans()) else []
    previous = b""
    for line in lines:
        eol = rnd.choice(_EOLS)
        if previous == b"\r" and not line and eol == b"\n":
            eol = b"\r"  # CR then a blank line ended by LF would read as one CRLF
        out += [line.encode(), eol]
        previous = eol
    return b"".join(out), expected


def split(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(stream)) for c in cuts})
    return [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]


@settings(max_examples=200, deadline=None)
@given(event_streams(), st.lists(st.integers(0, 2000), max_size=30))
def test_any_chunking_gives_the_original_events(
    case: tuple[bytes, list[ServerSentEvent]], cuts: list[int]
) -> None:
    stream, expected = case
    whole = decode(stream)
    assert whole == expected
    assert decode(*split(stream, cuts)) == whole
    assert decode(*bytewise(stream)) == whole


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=20))
def test_arbitrary_bytes_chunking_invariant(stream: bytes, cuts: list[int]) -> None:
    """Any byte soup (CR/LF anywhere, broken UTF-8): chunking never changes the outcome."""

    def outcome(chunks: list[bytes]) -> tuple[list[ServerSentEvent], bool]:
        decoder = SSEDecoder()
        events = [e for c in chunks for e in decoder.feed(c)]
        return events, decoder.mid_event

    assert outcome(split(stream, cuts)) == outcome([stream])
