"""The worker's key ring (inference_service.auth.keyring): verification, the verified-header
cache, expiry and invalidation applying to cached headers, the open/closed decision.

Keys are handed to the ring as this worker's own changes (``stored``), so no database is
needed; reloading from the store is covered end to end (tests/e2e/test_workers.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inference_service.auth import credentials, keyring
from inference_service.auth.keyring import KeyRing
from inference_service.auth.keys import ApiKey
from inference_service.auth.limiter import FailureLimiter
from inference_service.auth.roles import Role
from inference_service.errors import AuthenticationError, AuthenticationRateLimitError
from inference_service.store.engine import create_engine, create_sessionmaker

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def make_key(key_id: str = "id-1", secret: str = "s" * 43, **changes: Any) -> ApiKey:
    key = ApiKey(
        id=key_id,
        name="k",
        role=Role.MONITOR,
        scope=None,
        metadata={},
        secret_hash=credentials.hash_secret(key_id, secret),
        created_by=None,
        created_at=NOW,
        expiration=None,
        invalidated_at=None,
    )
    return dataclasses.replace(key, **changes)


def ring(clock: Clock, *, per_minute: int = 100, open_without_keys: bool = False) -> KeyRing:
    return KeyRing(
        create_sessionmaker(create_engine("sqlite+aiosqlite:///:memory:")),  # never queried here
        open_without_keys=open_without_keys,
        always_open=False,
        failures=FailureLimiter(per_minute),
        now=clock,
    )


def header(key_id: str = "id-1", secret: str = "s" * 43) -> str:
    return "ApiKey " + credentials.encode(key_id, secret)


def test_verified_headers_are_cached_and_still_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    keys = ring(clock)
    keys.stored(make_key(expiration=NOW + timedelta(hours=1)))
    assert keys.authenticate(header(), "c").id == "id-1"
    hashed: list[str] = []

    def counting_hash(key_id: str, secret: str) -> bytes:
        hashed.append(key_id)
        return b""

    monkeypatch.setattr(credentials, "hash_secret", counting_hash)
    assert keys.authenticate(header(), "c").id == "id-1"
    assert hashed == []  # a dict lookup, not a hash
    monkeypatch.undo()
    clock.now += timedelta(hours=1)
    with pytest.raises(AuthenticationError) as expired:
        keys.authenticate(header(), "c")
    assert expired.value.detail == "api key is expired"


def test_an_invalidation_applies_to_a_cached_header() -> None:
    keys = ring(Clock())
    key = make_key()
    keys.stored(key)
    keys.authenticate(header(), "c")
    keys.stored(dataclasses.replace(key, invalidated_at=NOW))
    with pytest.raises(AuthenticationError) as gone:
        keys.authenticate(header(), "c")
    assert gone.value.detail == "api key has been invalidated"


def test_wrong_secret_and_unknown_id_look_alike() -> None:
    keys = ring(Clock())
    keys.stored(make_key())
    for bad in (header(secret="t" * 43), header(key_id="id-2")):
        with pytest.raises(AuthenticationError) as refused:
            keys.authenticate(bad, "c")
        assert (refused.value.reason, refused.value.detail) == (
            "unable to authenticate with provided credentials",
            None,
        )


def test_the_unknown_id_is_compared_against_the_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[bytes] = []
    real = credentials.verify

    def recording_verify(key_id: str, secret: str, stored: bytes) -> bool:
        compared.append(stored)
        return real(key_id, secret, stored)

    monkeypatch.setattr(credentials, "verify", recording_verify)
    keys = ring(Clock())
    with pytest.raises(AuthenticationError):
        keys.authenticate(header(key_id="nobody"), "c")
    assert compared == [credentials.DUMMY_HASH]


def test_failures_are_limited_but_a_verified_header_is_not() -> None:
    keys = ring(Clock(), per_minute=2)
    keys.stored(make_key())
    keys.authenticate(header(), "c")
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            keys.authenticate(header(secret="wrong"), "c")
    with pytest.raises(AuthenticationRateLimitError):
        keys.authenticate(header(secret="wrong"), "c")
    assert keys.authenticate(header(), "c").id == "id-1"


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "MAX_VERIFIED", 3)
    keys = ring(Clock())
    keys.stored(make_key())
    variants = [
        f"ApiKey {credentials.encode('id-1', 's' * 43)}",
        *(f"{s} {credentials.encode('id-1', 's' * 43)}" for s in ("Bearer", "apikey", "bearer")),
    ]
    for value in variants:
        keys.authenticate(value, "c")
    assert len(keys._verified) == 3 and variants[0] not in keys._verified


def test_open_until_the_first_key_when_allowed() -> None:
    keys = ring(Clock(), open_without_keys=True)
    assert keys.open
    keys.stored(make_key(invalidated_at=NOW))
    assert not keys.open  # any key, even an invalidated one, turns it on for good
    assert not ring(Clock()).open
