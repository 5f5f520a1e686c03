"""api keys: the service's own credentials, stored only as a hash of the secret, and a second
revision counter (row 2 of ``catalog_revision``) that every key change increments, so each
worker's in-process key cache notices within ``catalog_refresh_interval``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
API_KEYS_REVISION_ID = 2


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("endpoints", JSON_VALUE, nullable=True),
        sa.Column("metadata", JSON_VALUE, nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expiration", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalidated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_index(op.f("ix_api_keys_name"), "api_keys", ["name"])
    revisions = sa.table(
        "catalog_revision", sa.column("id", sa.Integer()), sa.column("revision", sa.BigInteger())
    )
    op.bulk_insert(revisions, [{"id": API_KEYS_REVISION_ID, "revision": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM catalog_revision WHERE id = 2")
    op.drop_index(op.f("ix_api_keys_name"), table_name="api_keys")
    op.drop_table("api_keys")
