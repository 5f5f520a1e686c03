"""The ``Idempotency-Key`` header and the fingerprint of the request it is sent with.

The fingerprint tells a retry (same request) from a reuse of the key for another request:
SHA-256 over the method, the path, the query parameters sorted by name (a client library may
order them differently on a retry; the values of one name keep their order, which can matter)
and the raw body bytes. Each part is length-prefixed, so no two requests hash the same parts
by moving bytes from one part to the next. The body is hashed as sent, not as parsed: two
bodies that mean the same but differ in bytes are different requests, which errs on the safe
side (a 422, never a wrong replay).
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl

from inference_service.errors import IllegalArgumentError

HEADER = b"idempotency-key"
"""The request header, as ASGI spells names (lower case)."""
REPLAYED_HEADER = (b"idempotent-replayed", b"true")
"""Added to every replayed response."""
MAX_KEY_LENGTH = 255
ANONYMOUS = "anonymous"
"""The scope of keys sent while the service is open (no API key)."""


def parse_key(values: list[bytes]) -> str:
    """The key from the header's values: exactly one, 1 to 255 printable ASCII characters
    (space to ``~``), else a 400 naming the header."""
    if len(values) != 1:
        raise invalid_key("must be sent once")
    raw = values[0]
    if not raw:
        raise invalid_key("must not be empty")
    if len(raw) > MAX_KEY_LENGTH:
        raise invalid_key(f"must be at most {MAX_KEY_LENGTH} characters, got {len(raw)}")
    if any(byte < 0x20 or byte > 0x7E for byte in raw):
        raise invalid_key("must consist of printable ASCII characters")
    return raw.decode("ascii")


def invalid_key(problem: str) -> IllegalArgumentError:
    return IllegalArgumentError(
        f"Invalid Idempotency-Key header: it {problem}",
        code="invalid_idempotency_key",
        param="Idempotency-Key",
    )


def not_honoured() -> IllegalArgumentError:
    """The header on a request that performs no inference: refused rather than ignored, since
    a client sending it expects a guarantee this request would not get."""
    return IllegalArgumentError(
        "The Idempotency-Key header is honoured only on inference requests (POST); "
        "remove it from this request",
        code="invalid_idempotency_key",
        param="Idempotency-Key",
    )


def fingerprint(method: str, path: str, query_string: bytes, body: bytes) -> bytes:
    """SHA-256 of the request, as the module docstring describes."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    pairs.sort(key=lambda pair: pair[0])  # stable: one name's values keep their order
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8", "surrogateescape"), *_query(pairs), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def _query(pairs: list[tuple[str, str]]) -> list[bytes]:
    out = [len(pairs).to_bytes(8, "big")]
    for name, value in pairs:
        out.append(name.encode())
        out.append(value.encode())
    return out
