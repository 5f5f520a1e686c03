"""The Redis idempotency store, used when ``redis_url`` is set: every worker and node on the
same Redis server (and ``redis_key_prefix``) shares the keys.

One Redis string per key, ``<prefix>idempotency:<len(scope)>:<scope>:<key>`` (the length keeps
a ``:`` in a key from forging another scope). Its value is the claim's 32-character token
followed by the msgpack-encoded entry, so a Lua script can check the token without decoding.
Redis expiry does the bookkeeping: a claim is written with ``SET NX PX <lease>``, so an expired
lease or stored outcome is simply gone and the next ``SET NX`` takes the key; ``complete``
and ``release`` are scripts (``register_script``: ``EVALSHA``, loaded on first use) that
write or delete only while the value still starts with the caller's token.
"""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from inference_service.idempotency.store import (
    DONE,
    IN_FLIGHT,
    LEASE_S,
    Claimed,
    ClaimOutcome,
    StoredResponse,
    StoreUnavailableError,
    decide,
    new_token,
)

TOKEN_LENGTH = 32

_COMPLETE = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, 32) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, 32) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""
_CLAIM_ATTEMPTS = 5


class _Entry(msgspec.Struct, array_like=True):
    fingerprint: bytes
    state: str
    status: int | None = None
    headers: list[tuple[bytes, bytes]] | None = None
    body: bytes | None = None


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(_Entry)


class RedisIdempotencyStore:
    def __init__(self, client: Redis, prefix: str, *, owns_client: bool = True) -> None:
        self._client = client
        self._prefix = prefix + "idempotency:"
        self._owns_client = owns_client
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    def redis_key(self, scope: str, key: str) -> str:
        return f"{self._prefix}{len(scope)}:{scope}:{key}"

    async def claim(self, scope: str, key: str, fingerprint: bytes) -> ClaimOutcome:
        name = self.redis_key(scope, key)
        token = new_token()
        value = token.encode() + _ENCODER.encode(_Entry(fingerprint, IN_FLIGHT))
        try:
            for _ in range(_CLAIM_ATTEMPTS):
                if await self._client.set(name, value, nx=True, px=int(LEASE_S * 1000)):
                    return Claimed(token)
                stored = await self._get(name)
                if stored is None:
                    continue  # expired or released in between: claim again
                entry = _DECODER.decode(stored[TOKEN_LENGTH:])
                response = None
                if entry.state == DONE and entry.status is not None and entry.body is not None:
                    response = StoredResponse(entry.status, list(entry.headers or []), entry.body)
                return decide(fingerprint, entry.fingerprint, entry.state, response)
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"idempotency store (Redis): {exc}") from exc
        raise StoreUnavailableError("idempotency store: the key changed under every claim attempt")

    async def complete(self, scope: str, key: str, token: str, response: StoredResponse, ttl: float) -> bool:
        """The entry keeps the claim's fingerprint, read back here; the script then writes it
        only if the token is still ours (a take-over between the read and the write wins)."""
        name = self.redis_key(scope, key)
        try:
            current = await self._get(name)
            if current is None or current[:TOKEN_LENGTH] != token.encode():
                return False
            claimed = _DECODER.decode(current[TOKEN_LENGTH:])
            entry = _Entry(claimed.fingerprint, DONE, response.status, response.headers, response.body)
            value = token.encode() + _ENCODER.encode(entry)
            done = await self._complete(keys=[name], args=[token, value, max(1, int(ttl * 1000))])
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"idempotency store (Redis): {exc}") from exc
        return bool(done)

    async def _get(self, name: str) -> bytes | None:
        value = await self._client.get(name)
        return value.encode() if isinstance(value, str) else value

    async def release(self, scope: str, key: str, token: str) -> bool:
        try:
            released = await self._release(keys=[self.redis_key(scope, key)], args=[token])
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"idempotency store (Redis): {exc}") from exc
        return bool(released)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()
