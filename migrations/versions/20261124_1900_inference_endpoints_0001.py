"""inference endpoints

Revision ID: 0001
Revises:
Create Date: 2026-11-24 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_MAP = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "inference_endpoints",
        sa.Column("inference_id", sa.String(length=255), nullable=False),
        sa.Column("task_type", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("service_settings", JSON_MAP, nullable=False),
        sa.Column("task_settings", JSON_MAP, nullable=False),
        sa.Column("chunking_settings", JSON_MAP, nullable=True),
        sa.Column("secrets", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("inference_id", name=op.f("pk_inference_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("inference_endpoints")
