"""Encryption at rest for endpoint secrets: AES-256-GCM, bound to the endpoint id.

Blob layout: ``version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext+tag``.
The key id (first bytes of SHA-256 of the key) lets a key ring hold the new and the old key
while ``secrets rotate-key`` re-encrypts. The endpoint id is the associated data, so a blob
copied onto another row fails to decrypt instead of leaking one endpoint's key to another.

Keys come from ``INFERENCE_SERVICE_SECRETS_KEY`` (comma-separated base64 keys, the first one
encrypts) or from a key file (one base64 key per line, first encrypts) that is created with
0600 permissions on first run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOB_VERSION = 1
KEY_BYTES = 32
_NONCE_BYTES = 12
_KEY_ID_BYTES = 8
_HEADER = 1 + _KEY_ID_BYTES + _NONCE_BYTES
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(dict[str, Any])


class SecretKeyError(Exception):
    """The key material is missing, malformed or does not match the stored secrets."""


def generate_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES]


def parse_keys(text: str, source: str) -> list[bytes]:
    keys = []
    for item in text.replace(",", "\n").split():
        try:
            key = base64.b64decode(item, validate=True)
        except binascii.Error:
            raise SecretKeyError(f"{source}: a key is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"{source}: keys must be {KEY_BYTES} bytes, base64-encoded")
        keys.append(key)
    if not keys:
        raise SecretKeyError(f"{source}: no key found")
    return keys


class SecretBox:
    """Seals and opens secret maps. The first key encrypts; any key of the ring decrypts."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SecretKeyError("no secrets key")
        self._primary = AESGCM(keys[0])
        self._primary_id = _key_id(keys[0])
        self._ring = {_key_id(k): AESGCM(k) for k in keys}

    def seal(self, inference_id: str, values: dict[str, Any]) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._primary.encrypt(nonce, _ENCODER.encode(values), inference_id.encode())
        return bytes([BLOB_VERSION]) + self._primary_id + nonce + sealed

    def open(self, inference_id: str, blob: bytes) -> dict[str, Any]:
        if len(blob) < _HEADER or blob[0] != BLOB_VERSION:
            raise SecretKeyError(f"secrets of [{inference_id}] are not in a known format")
        cipher = self._ring.get(blob[1 : 1 + _KEY_ID_BYTES])
        if cipher is None:
            raise SecretKeyError(
                f"secrets of [{inference_id}] were encrypted with a key that is not configured"
            )
        try:
            plain = cipher.decrypt(blob[1 + _KEY_ID_BYTES : _HEADER], blob[_HEADER:], inference_id.encode())
        except InvalidTag:
            raise SecretKeyError(f"secrets of [{inference_id}] failed authentication") from None
        return _DECODER.decode(plain)

    def is_current(self, blob: bytes) -> bool:
        """Whether ``blob`` is already sealed with the primary key."""
        return blob[1 : 1 + _KEY_ID_BYTES] == self._primary_id


def _write_tmp(path: Path, keys: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, ("\n".join(keys) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Atomically replace ``path`` with ``keys`` (one per line), mode 0600 from the first byte."""
    os.replace(_write_tmp(path, keys), path)


def _create_key_file(path: Path) -> None:
    """Create a new key file unless another process won the race (``link`` never overwrites)."""
    tmp = _write_tmp(path, [generate_key()])
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def read_key_file(path: Path) -> list[bytes]:
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretKeyError(f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")
        text = path.read_text("ascii")
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secrets key file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretKeyError(f"{path}: the key file holds non-ASCII bytes, not base64 keys") from None
    return parse_keys(text, str(path))


def load_secret_box(env_keys: str, key_file: Path, *, create: bool) -> SecretBox:
    """Keys from the environment if set, else the key file (created when ``create``)."""
    if env_keys:
        return SecretBox(parse_keys(env_keys, "INFERENCE_SERVICE_SECRETS_KEY"))
    if not key_file.exists():
        if not create:
            raise SecretKeyError(f"no secrets key: {key_file} does not exist")
        try:
            _create_key_file(key_file)
        except OSError as exc:
            raise SecretKeyError(
                f"cannot create the secrets key file {key_file}: {exc.strerror or exc}"
            ) from None
    return SecretBox(read_key_file(key_file))
