"""Key material: new ids and secrets, the stored hash, and the ``Authorization`` header.

A secret is 32 random bytes (``secrets.token_urlsafe``), so it cannot be guessed and a
password hash (bcrypt, argon2) would add only cost: each verification would take
milliseconds for no gain. What is stored is SHA-256 over a fixed label, the key id and the
secret: a database dump reveals no usable key (inverting SHA-256 of 256 random bits is out of
reach), and binding the id means a hash copied to another row verifies nothing. A keyed
hash (HMAC with a server key) would protect only weak secrets, which we never make.

Credentials arrive as ``Authorization: ApiKey <encoded>`` (the official Elasticsearch
client's ``api_key=``) or ``Authorization: Bearer <encoded>`` (the OpenAI SDK's ``api_key=``),
``encoded`` being base64 of ``id:secret``, on both faces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from inference_service.errors import AuthenticationError

ID_BYTES = 15  # 20 url-safe characters, like Elasticsearch's key ids
SECRET_BYTES = 32
SCHEMES = ("apikey", "bearer")
MAX_HEADER = 512
"""Longer ``Authorization`` values are refused before decoding: ours are about 90 bytes."""
_LABEL = b"inference-service api key v1\x00"
DUMMY_HASH = hashlib.sha256(b"no such key").digest()
"""Compared against when the id is unknown, so a refusal takes the same time either way."""


def new_key_id() -> str:
    """A random id that never starts with ``-``: a command line would take it for an option."""
    while True:
        key_id = secrets.token_urlsafe(ID_BYTES)
        if not key_id.startswith("-"):
            return key_id


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(key_id: str, secret: str) -> bytes:
    return hashlib.sha256(_LABEL + key_id.encode() + b":" + secret.encode()).digest()


def verify(key_id: str, secret: str, stored: bytes) -> bool:
    """Constant-time comparison of the secret's hash with ``stored``."""
    return hmac.compare_digest(hash_secret(key_id, secret), stored)


def encode(key_id: str, secret: str) -> str:
    """The credential clients send: base64 of ``id:secret``."""
    return base64.b64encode(f"{key_id}:{secret}".encode()).decode("ascii")


def parse_authorization(header: str) -> tuple[str, str]:
    """``(id, secret)`` from an ``Authorization`` value; any other form is a 401."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() not in SCHEMES or not value or len(header) > MAX_HEADER:
        raise AuthenticationError()
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII (a latin-1 header), not UTF-8
        raise AuthenticationError() from None
    key_id, sep, secret = decoded.partition(":")
    if not sep or not key_id or not secret:
        raise AuthenticationError()
    return key_id, secret
