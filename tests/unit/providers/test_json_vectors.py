"""Vectors kept as the provider's JSON (inference_service.providers.json_vectors)."""

from __future__ import annotations

import msgspec
import pytest

from inference_service.model.embedding import JsonVector, vector_length
from inference_service.providers.json_vectors import json_vector


def raw(text: str) -> msgspec.Raw:
    return msgspec.json.decode(text.encode(), type=msgspec.Raw)


@pytest.mark.parametrize(
    ("text", "length"),
    [("[0.5,-0.25,1e-3,2E+2]", 4), ("[ 1 , 2 ]", 2), ("[-7]", 1), ("[]", 0), ("[12,-7,101]", 3)],
)
def test_flat_arrays_of_numbers_pass_with_their_length(text: str, length: int) -> None:
    vector = json_vector(raw(text))
    assert vector is not None and vector.length == length and vector_length(vector) == length
    assert bytes(vector.raw) == text.encode()
    assert msgspec.json.encode({"embedding": vector.raw}) == b'{"embedding":' + text.encode() + b"}"


@pytest.mark.parametrize(
    "text",
    ['[1,"2"]', "[[1,2],[3]]", '{"a":1}', "[1,null]", "[true]", "[false,1]", '"x"', "1", "[1,{}]"],
)
def test_anything_else_is_refused(text: str) -> None:
    assert json_vector(raw(text)) is None


def test_values_decodes_the_numbers() -> None:
    vector = JsonVector(raw("[0.5,-0.25]"), 2)
    assert vector.values() == [0.5, -0.25]
    assert vector_length([0.1, 0.2, 0.3]) == 3
