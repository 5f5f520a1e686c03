"""The API key record every part shares: what the key ring holds and the store returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inference_service.auth.roles import EndpointScope, Role


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """One key, without its secret (``secret_hash`` is never shown anywhere)."""

    id: str
    name: str
    role: Role
    scope: EndpointScope | None
    """The inference ids and ``prefix*`` patterns it may use; None: every endpoint."""
    metadata: dict[str, Any]
    secret_hash: bytes
    created_by: str | None
    """The id of the key that created it; None when made by the CLI or on an open service."""
    created_at: datetime
    expiration: datetime | None
    invalidated_at: datetime | None

    @property
    def endpoints(self) -> tuple[str, ...] | None:
        return self.scope.patterns if self.scope is not None else None

    def expired(self, now: datetime) -> bool:
        return self.expiration is not None and self.expiration <= now

    def active(self, now: datetime) -> bool:
        return self.invalidated_at is None and not self.expired(now)


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def epoch_ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None
