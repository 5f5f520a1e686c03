"""The worker's API keys in memory: authentication without a database query.

:class:`KeyRing` holds every key record (id -> :class:`ApiKey`, secret hashes included) and
follows the keys' revision counter like the endpoint catalog does
(:class:`~inference_service.refresh.RevisionWatcher`), so an invalidation made anywhere
applies here within ``catalog_refresh_interval``; this worker's own changes apply at once.

A request costs one dict lookup: an ``Authorization`` value this worker verified maps to its
key id (at most :data:`MAX_VERIFIED` values; the oldest go first), and the key's current record
is read on every request, so expiry and invalidation still apply to cached values. Anything
else is verified: the header is decoded, the secret hashed and compared in constant time with
the stored hash, or with a dummy hash when the id is unknown, so a refusal takes the same
time whether the id exists or not. Failed attempts count against the client's address
(:class:`~inference_service.auth.limiter.FailureLimiter`). The raw key is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.auth import credentials
from inference_service.auth.keys import ApiKey
from inference_service.auth.limiter import FailureLimiter
from inference_service.errors import AuthenticationError
from inference_service.store.api_keys import READ_REVISION, ApiKeyRepository
from inference_service.store.revisions import API_KEYS

log = logging.getLogger("inference_service.auth")
MAX_VERIFIED = 10_000
Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KeyRing:
    counter = API_KEYS
    description = "API keys"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        open_without_keys: bool,
        always_open: bool,
        failures: FailureLimiter,
        now: Now = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._open_without_keys = open_without_keys
        self._always_open = always_open
        self._failures = failures
        self._now = now
        self._keys: dict[str, ApiKey] = {}
        self._verified: dict[str, str] = {}
        self._revision: int | None = None
        self.open = True
        """Whether requests pass without a key (``auth = off``, or ``auto`` on loopback before
        the first key exists)."""
        self._update_open()

    @property
    def revision(self) -> int | None:
        return self._revision

    async def reload(self) -> None:
        async with self._sessions() as session:
            revision = (await session.execute(READ_REVISION)).scalar_one()
            keys = await ApiKeyRepository(session).list_all()
        self._keys = {k.id: k for k in keys}
        self._revision = revision
        self._update_open()

    def stored(self, key: ApiKey) -> None:
        """A key created or changed by this worker: in effect at once."""
        self._keys[key.id] = key
        self._update_open()

    def _update_open(self) -> None:
        self.open = self._always_open or (self._open_without_keys and not self._keys)

    def authenticate(self, header: str, client: str) -> ApiKey:
        """The usable key ``header`` carries, or a 401 (429 after too many failures)."""
        key_id = self._verified.get(header)
        if key_id is not None:
            key = self._keys.get(key_id)
            if key is not None and key.active(self._now()):
                return key
        return self._verify(header, client)

    def _verify(self, header: str, client: str) -> ApiKey:
        self._failures.check(client)
        try:
            key_id, secret = credentials.parse_authorization(header)
        except AuthenticationError:
            raise self._failed(client, "credentials that are not an encoded API key") from None
        key = self._keys.get(key_id)
        stored = key.secret_hash if key is not None else credentials.DUMMY_HASH
        if not credentials.verify(key_id, secret, stored) or key is None:
            raise self._failed(client, "an unknown key or a wrong secret")
        if key.invalidated_at is not None:
            raise self._failed(client, f"API key [{key.id}], invalidated", "api key has been invalidated")
        if key.expired(self._now()):
            raise self._failed(client, f"API key [{key.id}], expired", "api key is expired")
        if len(self._verified) >= MAX_VERIFIED:
            del self._verified[next(iter(self._verified))]
        self._verified[header] = key.id
        return key

    def _failed(self, client: str, what: str, detail: str | None = None) -> AuthenticationError:
        """Count and log a failed attempt (never the credentials themselves)."""
        self._failures.failed(client)
        log.info("authentication failed from [%s]: %s", client, what)
        return AuthenticationError(detail=detail)
