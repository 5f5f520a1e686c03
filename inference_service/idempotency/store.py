"""The claim protocol every idempotency store implements, and its outcomes.

A request with an idempotency key first :meth:`~IdempotencyStore.claim`\\ s it. The claim is a
*lease*: it holds the key for :data:`LEASE_S` seconds at most, so a key whose node died while
running its request is not blocked for the whole ``idempotency_ttl``: once the lease expired
another request takes it over atomically (a new token). Every later write is checked against
the claim's token, so the old owner, should it still finish, changes nothing. A request
running longer than the lease may therefore run twice; ten minutes is well beyond any
request's deadline, so that happens only when a node stalls.

The owner then either :meth:`~IdempotencyStore.complete`\\ s the claim with the response (kept
for ``idempotency_ttl``) or :meth:`~IdempotencyStore.release`\\ s it (deleted: the retry runs
anew). A stored outcome past its expiry counts as absent everywhere, before any purge.

A store that cannot be reached raises :class:`StoreUnavailableError`; the caller refuses the
request (503) rather than running it without the guarantee the client asked for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

LEASE_S = 600.0
"""How long a claim holds its key at most (10 minutes), unless completed or released first."""
IN_FLIGHT = "in_flight"
DONE = "done"


class StoreUnavailableError(Exception):
    """The store failed (down, timed out, refused): the claim's outcome is unknown."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response as the application sent it: status, raw headers, the whole body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is ours: run the request, then complete or release with ``token``."""

    token: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The key's request already ran, with the same fingerprint: send this again."""

    response: StoredResponse


@dataclass(frozen=True, slots=True)
class InFlight:
    """Another request holds the key, with the same fingerprint, and its lease is running."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """The key was used for a request with another fingerprint (running or done)."""


ClaimOutcome = Claimed | Replay | InFlight | Conflict


class IdempotencyStore(Protocol):
    """Where claims and outcomes live; shared by every worker and node that shares it."""

    async def claim(self, scope: str, key: str, fingerprint: bytes) -> ClaimOutcome:
        """Take the key for a request with ``fingerprint``, or say why not."""
        ...

    async def complete(self, scope: str, key: str, token: str, response: StoredResponse, ttl: float) -> bool:
        """Store ``response`` for ``ttl`` seconds if ``token`` still holds the claim."""
        ...

    async def release(self, scope: str, key: str, token: str) -> bool:
        """Delete the claim if ``token`` still holds it."""
        ...

    async def close(self) -> None:
        """Stop background work and close connections the store owns."""
        ...


def new_token() -> str:
    """A claim's token: 32 hex characters (the Redis store relies on the fixed length)."""
    return secrets.token_hex(16)


def decide(
    fingerprint: bytes, stored_fingerprint: bytes, state: str, response: StoredResponse | None
) -> ClaimOutcome:
    """The outcome for a live (unexpired) entry someone else holds or completed."""
    if stored_fingerprint != fingerprint:
        return Conflict()
    if state == DONE and response is not None:
        return Replay(response)
    return InFlight()
