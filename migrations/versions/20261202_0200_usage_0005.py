"""usage accounting: requests, errors and tokens per hour, endpoint and API key, which every
worker adds to in batches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inference_id", sa.String(length=255), nullable=False),
        sa.Column("api_key_id", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "inference_id", "api_key_id", name=op.f("pk_usage_hours")),
    )
    op.create_index(op.f("ix_usage_hours_inference_id"), "usage_hours", ["inference_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_usage_hours_inference_id"), table_name="usage_hours")
    op.drop_table("usage_hours")
