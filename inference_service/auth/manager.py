"""Creating, listing and invalidating API keys; the REST API and the CLI both call this.

Each change runs in its own transaction with the keys' revision bump (other workers notice
within ``catalog_refresh_interval``) and, once committed, is handed to the listener (this
worker's key ring), so it applies here at once. The secret exists only in the value
:meth:`ApiKeyManager.create` returns; the store keeps its hash.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from inference_service.auth import credentials
from inference_service.auth.keys import ApiKey
from inference_service.auth.roles import EndpointScope, Role
from inference_service.errors import InvalidRequestError
from inference_service.model.time_value import parse_time_value
from inference_service.store.api_keys import ApiKeyRepository

log = logging.getLogger("inference_service.auth")
MAX_NAME = 255


Reach = Callable[[ApiKey], bool]
"""Whether the caller may see and invalidate a key."""


class KeyListener(Protocol):
    def stored(self, key: ApiKey) -> None: ...


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str

    @property
    def encoded(self) -> str:
        return credentials.encode(self.key.id, self.secret)


@dataclass(frozen=True, slots=True)
class Invalidation:
    invalidated: list[str]
    previously_invalidated: list[str]
    not_found: list[str]


def parse_expiration(value: str | None, now: datetime) -> datetime | None:
    """An Elasticsearch time value (``30d``, ``12h``) from now; None or ``-1``: never expires."""
    if value is None:
        return None
    seconds = parse_time_value(value, "expiration")
    if seconds is None:
        return None
    try:
        return now + timedelta(seconds=seconds)
    except OverflowError:  # past datetime's year 9999, or past timedelta's own range
        raise InvalidRequestError(
            f"[expiration] [{value}] is too far in the future; omit it for a key that never expires"
        ) from None


class ApiKeyManager:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], listener: KeyListener | None = None
    ) -> None:
        self._sessions = sessions
        self._listener = listener

    async def create(
        self,
        *,
        name: str,
        role: Role,
        endpoints: Sequence[str] | None = None,
        expiration: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        created_by: str | None = None,
    ) -> CreatedKey:
        if not name.strip() or len(name) > MAX_NAME:
            raise InvalidRequestError(f"the key name must be 1 to {MAX_NAME} characters", param="name")
        if any(unicodedata.category(c) == "Cc" for c in name):  # a line break would forge log lines
            raise InvalidRequestError(
                "the key name must not contain control characters (line breaks, tabs, NUL…)", param="name"
            )
        scope = EndpointScope.parse(list(endpoints)) if endpoints is not None else None
        now = datetime.now(UTC)
        secret = credentials.new_secret()
        key_id = credentials.new_key_id()
        key = ApiKey(
            id=key_id,
            name=name,
            role=role,
            scope=scope,
            metadata=dict(metadata or {}),
            secret_hash=credentials.hash_secret(key_id, secret),
            created_by=created_by,
            created_at=now,
            expiration=parse_expiration(expiration, now),
            invalidated_at=None,
        )
        async with self._sessions.begin() as session:
            await ApiKeyRepository(session).insert(key)
        if self._listener is not None:
            self._listener.stored(key)
        log.info(
            "API key [%s] created: name [%s], role [%s], endpoints [%s], by [%s]",
            key.id,
            key.name,
            key.role,
            ",".join(key.endpoints) if key.endpoints is not None else "*",
            created_by or "the command line or an open service",
        )
        return CreatedKey(key, secret)

    async def find(
        self, *, ids: Sequence[str] | None = None, name: str | None = None, within: Reach | None = None
    ) -> list[ApiKey]:
        """The keys with ``ids`` or named ``name`` (all without either); only those ``within``
        passes when given (the keys a restricted caller may see)."""
        async with self._sessions() as session:
            found = await ApiKeyRepository(session).find(ids=ids, name=name)
        return found if within is None else [k for k in found if within(k)]

    async def invalidate(
        self, *, ids: Sequence[str] | None = None, name: str | None = None, within: Reach | None = None
    ) -> Invalidation:
        """Invalidate the keys with ``ids`` or named ``name``; says which were already. Keys
        ``within`` does not pass are left alone and reported like ids that do not exist."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            repository = ApiKeyRepository(session)
            found = await repository.find(ids=ids, name=name)
            if within is not None:
                found = [k for k in found if within(k)]
            fresh = [k for k in found if k.invalidated_at is None]
            await repository.invalidate([k.id for k in fresh], now)
        if self._listener is not None:
            for key in fresh:
                self._listener.stored(dataclasses.replace(key, invalidated_at=now))
        for key in fresh:
            log.info("API key [%s] (name [%s]) invalidated", key.id, key.name)
        known = {k.id for k in found}
        return Invalidation(
            invalidated=[k.id for k in fresh],
            previously_invalidated=[k.id for k in found if k.invalidated_at is not None],
            not_found=[i for i in dict.fromkeys(ids or ()) if i not in known],
        )

    async def count(self) -> int:
        async with self._sessions() as session:
            return await ApiKeyRepository(session).count()

    async def count_usable(self) -> int:
        """How many keys could authenticate now (neither invalidated nor expired)."""
        now = datetime.now(UTC)
        return sum(1 for key in await self.find() if key.active(now))
