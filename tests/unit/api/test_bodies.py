"""The one body decoder (inference_service.api.bodies): every bad body is a 400, never a 500."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from inference_service.api.bodies import decode_json, decode_json_object, json_path, require_body
from inference_service.errors import ContentParseError, ParseError
from inference_service.model.nesting import MAX_NESTING, nesting_exceeds


class Body(msgspec.Struct, forbid_unknown_fields=True):
    n: int


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
