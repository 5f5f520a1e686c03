"""The Idempotency-Key header's rules and the request fingerprint."""

from __future__ import annotations

import pytest

from inference_service.errors import IllegalArgumentError
from inference_service.idempotency.keys import fingerprint, not_honoured, parse_key


def test_a_key_of_1_to_255_printable_ascii_characters_is_accepted() -> None:
    assert parse_key([b"a"]) == "a"
    assert parse_key([b"k" * 255]) == "k" * 255
    assert parse_key([b"order 42 / retry ~!"]) == "order 42 / retry ~!"


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ([b""], "must not be empty"),
        ([b"k" * 256], "at most 255 characters, got 256"),
        ([b"caf\xc3\xa9"], "printable ASCII"),
        ([b"tab\there"], "printable ASCII"),
        ([b"a", b"b"], "sent once"),
    ],
)
def test_other_keys_are_a_400_naming_the_header(values: list[bytes], problem: str) -> None:
    with pytest.raises(IllegalArgumentError) as raised:
        parse_key(values)
    assert raised.value.status == 400 and raised.value.code == "invalid_idempotency_key"
    assert "Idempotency-Key" in raised.value.reason and problem in raised.value.reason


def test_the_header_elsewhere_says_where_it_is_honoured() -> None:
    assert "honoured only on inference requests" in not_honoured().reason


def test_the_fingerprint_is_sha256_of_method_path_sorted_query_and_body() -> None:
    base = fingerprint("POST", "/_inference/x", b"timeout=1s&b=2", b'{"input":"a"}')
    assert len(base) == 32
    assert fingerprint("post", "/_inference/x", b"b=2&timeout=1s", b'{"input":"a"}') == base
    assert fingerprint("POST", "/_inference/y", b"timeout=1s&b=2", b'{"input":"a"}') != base
    assert fingerprint("PUT", "/_inference/x", b"timeout=1s&b=2", b'{"input":"a"}') != base
    assert fingerprint("POST", "/_inference/x", b"timeout=2s&b=2", b'{"input":"a"}') != base
    assert fingerprint("POST", "/_inference/x", b"timeout=1s&b=2", b'{"input": "a"}') != base  # raw bytes


def test_values_of_one_parameter_keep_their_order() -> None:
    assert fingerprint("POST", "/p", b"a=1&a=2", b"") != fingerprint("POST", "/p", b"a=2&a=1", b"")
    assert fingerprint("POST", "/p", b"a=1&b=2&a=3", b"") == fingerprint("POST", "/p", b"b=2&a=1&a=3", b"")


def test_parts_are_delimited_so_bytes_cannot_move_between_them() -> None:
    assert fingerprint("POST", "/ab", b"", b"c") != fingerprint("POST", "/a", b"", b"bc")
    assert fingerprint("POST", "/p", b"a=bc", b"") != fingerprint("POST", "/p", b"ab=c", b"")
