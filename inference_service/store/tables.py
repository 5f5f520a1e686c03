"""The SQL schema. Alembic migrations are the only thing that creates or changes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary, MetaData, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonMap = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EndpointRow(Base):
    """One inference endpoint. Secrets live only in ``secrets``, AES-GCM encrypted."""

    __tablename__ = "inference_endpoints"

    inference_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    task_type: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    service_settings: Mapped[dict[str, Any]] = mapped_column(JsonMap)
    task_settings: Mapped[dict[str, Any]] = mapped_column(JsonMap)
    chunking_settings: Mapped[dict[str, Any] | None] = mapped_column(JsonMap, nullable=True)
    cache: Mapped[dict[str, Any] | None] = mapped_column(JsonMap, nullable=True)
    """The response cache's settings (``{"ttl": "10m"}``); None: the endpoint is not cached."""
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CatalogRevision(Base):
    """One row per in-process cache, bumped in the same transaction as every change it caches:
    id 1 the endpoints (:data:`~inference_service.store.revisions.ENDPOINTS`), id 2 the API
    keys (:data:`~inference_service.store.revisions.API_KEYS`)."""

    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


class ApiKeyRow(Base):
    """One of the service's own API keys. The secret itself is never stored: ``secret_hash``
    is its SHA-256 (see :mod:`inference_service.auth.credentials`). Invalidated keys stay, so
    listing shows them and an id is never reused."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(16))
    endpoints: Mapped[list[str] | None] = mapped_column(JsonMap, nullable=True)
    key_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JsonMap)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expiration: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    invalidated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdempotencyKeyRow(Base):
    """One idempotency key of one API key (``scope``: the key id, or ``anonymous``): while its
    first request runs, a claim (``state`` ``in_flight``, held by ``token`` until
    ``expires_at``); afterwards the stored outcome (``done``: status, headers, body) until it
    expires. Expired rows are purged in the background."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
    token: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[list[list[str]] | None] = mapped_column(JsonMap, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UsageRow(Base):
    """The usage counts of one hour (UTC, the hour's start), endpoint and API key (``""``
    when the request carried none). Workers add to these rows in batches
    (:mod:`inference_service.store.usage`): a row is the sum over every worker and flush."""

    __tablename__ = "usage_hours"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    inference_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    api_key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[int] = mapped_column(BigInteger)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
