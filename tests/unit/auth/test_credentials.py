"""Key material and the Authorization header (inference_service.auth.credentials)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from inference_service.auth import credentials
from inference_service.errors import AuthenticationError


def test_ids_and_secrets_are_random_and_url_safe() -> None:
    ids = {credentials.new_key_id() for _ in range(50)}
    secrets = {credentials.new_secret() for _ in range(50)}
    assert len(ids) == len(secrets) == 50
    assert all(len(i) == 20 and ":" not in i for i in ids)
    assert all(len(s) == 43 for s in secrets)


def test_ids_never_start_with_a_dash_so_a_command_line_takes_them_as_arguments() -> None:
    # One id in 64 would start with "-"; 3,000 draws miss that with probability < 1e-20.
    assert not any(credentials.new_key_id().startswith("-") for _ in range(3000))


def test_the_hash_binds_the_id_and_is_sha256() -> None:
    stored = credentials.hash_secret("id1", "s3cret")
    assert stored == hashlib.sha256(b"inference-service api key v1\x00id1:s3cret").digest()
    assert credentials.verify("id1", "s3cret", stored)
    assert not credentials.verify("id2", "s3cret", stored)
    assert not credentials.verify("id1", "s3cret!", stored)
    assert not credentials.verify("id1", "s3cret", credentials.DUMMY_HASH)


@pytest.mark.parametrize("scheme", ["ApiKey", "Bearer", "apikey", "BEARER"])
def test_both_schemes(scheme: str) -> None:
    encoded = credentials.encode("abc", "def:ghi")
    assert base64.b64decode(encoded) == b"abc:def:ghi"
    assert credentials.parse_authorization(f"{scheme} {encoded}") == ("abc", "def:ghi")


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "ApiKey",
        "ApiKey not-base64!",
        "ApiKey " + base64.b64encode(b"no-colon").decode(),
        "ApiKey " + base64.b64encode(b":secret").decode(),
        "ApiKey " + base64.b64encode(b"id:").decode(),
        "ApiKey " + base64.b64encode(b"\xff\xfe:x").decode(),
        "ApiKey " + "QUFB" * 200,
        "ApiKey \xff\xfe",  # found by the OpenAPI fuzz test: b64decode refuses non-ASCII with ValueError
        "Bearer caf\xe9",
    ],
)
def test_anything_else_is_a_401_that_never_echoes_it(header: str) -> None:
    with pytest.raises(AuthenticationError) as refused:
        credentials.parse_authorization(header)
    assert refused.value.reason == "unable to authenticate with provided credentials"
