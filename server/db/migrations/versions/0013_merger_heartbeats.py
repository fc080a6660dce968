"""merger heartbeats: one row per running merger process, for /readyz and /metrics

Revision ID: 0013_merger_heartbeats
Revises: 0012_fieldcase
Create Date: 2026-12-02 07:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.models.base import UTCDateTime

revision: str = '0013_merger_heartbeats'
down_revision: str | Sequence[str] | None = '0012_fieldcase'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merger_heartbeats",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_merger_heartbeats_beat_at", "merger_heartbeats", ["beat_at"])


def downgrade() -> None:
    op.drop_index("ix_merger_heartbeats_beat_at", table_name="merger_heartbeats")
    op.drop_table("merger_heartbeats")
