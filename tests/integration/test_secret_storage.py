"""Secrets at rest: encrypted, bound to their endpoint, never readable from the raw store."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import httpx
import pytest

from inference_service.settings import Settings
from inference_service.store.secret_box import (
    SecretBox,
    SecretKeyError,
    generate_key,
    load_secret_box,
    parse_keys,
)
from tests.support.databases import raw_endpoint_rows
from tests.support.service import RunningService

SECRET = "sk-live-THIS-MUST-NEVER-BE-STORED-IN-CLEAR-9f3a"


def test_plaintext_secret_is_absent_from_the_store(service: RunningService, settings: Settings) -> None:
    body = {"service": "openai", "service_settings": {"api_key": SECRET, "model_id": "gpt-4o-mini"}}
    created = httpx.put(f"{service.url}/_inference/chat_completion/secret-at-rest", json=body)
    assert created.status_code == 200 and SECRET not in created.text
    rotated = httpx.put(
        f"{service.url}/_inference/secret-at-rest/_update",
        json={"service_settings": {"api_key": SECRET + "-2"}},
    )
    assert rotated.status_code == 200 and SECRET not in rotated.text
    raw = raw_endpoint_rows(settings)
    assert b"secret-at-rest" in raw  # we are looking at the right rows
    assert b"gpt-4o-mini" in raw
    assert SECRET.encode() not in raw and b"THIS-MUST-NEVER" not in raw
    for response in (
        httpx.get(f"{service.url}/_inference"),
        httpx.get(f"{service.url}/_inference/secret-at-rest"),
    ):
        assert SECRET not in response.text and "api_key" not in response.text


def test_key_file_is_created_private(settings: Settings, service: RunningService) -> None:
    mode = stat.S_IMODE(os.stat(settings.resolved_secrets_key_file).st_mode)
    assert mode == 0o600


def test_world_readable_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets.key"
    key_file.write_text(generate_key() + "\n")
    key_file.chmod(0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_secret_box("", key_file, create=False)


def test_a_blob_moved_to_another_endpoint_does_not_open() -> None:
    box = SecretBox(parse_keys(generate_key(), "test"))
    blob = box.seal("endpoint-a", {"api_key": "k"})
    assert box.open("endpoint-a", blob) == {"api_key": "k"}
    with pytest.raises(SecretKeyError, match="failed authentication"):
        box.open("endpoint-b", blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(SecretKeyError):
        box.open("endpoint-a", tampered)


def test_key_ring_old_key_decrypts_new_key_encrypts() -> None:
    old, new = generate_key(), generate_key()
    sealed_with_old = SecretBox(parse_keys(old, "t")).seal("e", {"api_key": "k"})
    ring = SecretBox(parse_keys(f"{new},{old}", "t"))
    assert ring.open("e", sealed_with_old) == {"api_key": "k"}
    assert not ring.is_current(sealed_with_old)
    assert ring.is_current(ring.seal("e", {"api_key": "k"}))
    with pytest.raises(SecretKeyError, match="not configured"):
        SecretBox(parse_keys(new, "t")).open("e", sealed_with_old)


def test_malformed_keys_are_refused() -> None:
    for text in ("not base64!", base64.b64encode(b"short").decode(), ""):
        with pytest.raises(SecretKeyError):
            parse_keys(text, "INFERENCE_SERVICE_SECRETS_KEY")
