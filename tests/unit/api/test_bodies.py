"""The one body decoder (inference_service.api.bodies): every bad body is a 400, never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from starlette.requests import Request
from starlette.types import Message

from inference_service.api.bodies import decode_json, decode_json_object, json_path, read_body, require_body
from inference_service.errors import ContentParseError, ContentTooLongError, ParseError
from inference_service.model.nesting import MAX_NESTING, nesting_exceeds


class Body(msgspec.Struct, forbid_unknown_fields=True):
    n: int


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    x: int = 0


class Outer(msgspec.Struct, forbid_unknown_fields=True):
    n: int
    inner: list[Inner]


DECODER = msgspec.json.Decoder(Body)


def test_typed_errors_carry_the_label_and_path() -> None:
    with pytest.raises(ContentParseError) as caught:
        decode_json(b'{"n": "x"}', DECODER, "thing")
    assert caught.value.reason == "[thing] Expected `int`, got `str` - at `$.n`"
    assert caught.value.param == "$.n"
    with pytest.raises(ContentParseError, match=r"^\[thing\] malformed JSON: "):
        decode_json(b"{", DECODER, "thing")
    with pytest.raises(ContentParseError, match=r"^\[thing\] malformed JSON: "):
        decode_json(b"\xff", DECODER, "thing")


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_nesting_beyond_the_decoder_is_a_400(opening: bytes) -> None:
    closing = b"]" if opening == b"[" else b"}"
    body = b'{"a":' + opening * 5000 + b"1" + closing * 5000 + b"}"
    with pytest.raises(ContentParseError, match="nested too deeply"):
        decode_json_object(body, "inference_endpoint")


def test_maps_deeper_than_the_limit_are_refused() -> None:
    deep: Any = 1
    for _ in range(MAX_NESTING + 1):
        deep = [deep]
    body = msgspec.json.encode({"a": deep})
    with pytest.raises(ContentParseError, match=f"nests deeper than {MAX_NESTING} levels"):
        decode_json_object(body, "inference_endpoint")
    assert decode_json_object(msgspec.json.encode({"a": [[1]]}), "x") == {"a": [[1]]}


def test_nesting_counts_lists_and_dicts() -> None:
    assert not nesting_exceeds({"a": [1, {"b": 2}]}, 3)
    assert nesting_exceeds({"a": [1, {"b": [2]}]}, 3)
    assert not nesting_exceeds("scalar", 0)


def test_required_body_and_paths() -> None:
    for blank in (b"", b"  \n"):
        with pytest.raises(ParseError, match="request body is required"):
            require_body(blank)
    assert require_body(b"{}") == b"{}"
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"n": "x"}, Body)
    assert json_path(caught.value) == "$.n"
    with pytest.raises(msgspec.ValidationError) as unknown:
        msgspec.convert({"n": 1, "m": 2}, Body)
    assert json_path(unknown.value) == "$.m"  # the field itself, not the object holding it
    with pytest.raises(msgspec.ValidationError) as missing:
        msgspec.convert({}, Body)
    assert json_path(missing.value) == "$.n"
    with pytest.raises(msgspec.ValidationError) as nested:
        msgspec.convert({"n": 1, "inner": [{"x": 1}, {"y": 2}]}, Outer)
    assert json_path(nested.value) == "$.inner[1].y"


def test_read_body_keeps_the_bytes_for_a_second_call() -> None:
    """The idempotency layer reads the body first; the handler gets the same bytes."""
    parts = [b'{"a":', b"1}"]

    async def receive() -> Message:
        return {"type": "http.request", "body": parts.pop(0), "more_body": bool(parts)}

    async def main() -> tuple[bytes, bytes]:
        request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        return await read_body(request, 100), await read_body(request, 100)

    assert asyncio.run(main()) == (b'{"a":1}', b'{"a":1}')


def test_read_body_refuses_more_than_the_limit() -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 11, "more_body": False}

    async def main() -> None:
        await read_body(Request({"type": "http", "method": "POST", "headers": []}, receive), 10)

    with pytest.raises(ContentTooLongError):
        asyncio.run(main())
