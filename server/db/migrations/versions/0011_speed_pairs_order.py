"""speed: the duplicate queue's order as an index (pending pairs, best score first)

A page of ``GET /api/v1/duplicates`` sorted every pending pair (31 ms at 10,000 pairs on
SQLite, more at each deeper page); with the ORDER BY as an index it reads one page's rows.

Revision ID: 0011_speed_pairs_order
Revises: 0010_field_duplicates
Create Date: 2026-12-02 07:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_speed_pairs_order'
down_revision: str | Sequence[str] | None = '0010_field_duplicates'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_candidate_pairs_queue_order', 'candidate_pairs',
        ['status', sa.text('score DESC'), 'created_at', 'id'],
    )


def downgrade() -> None:
    op.drop_index('ix_candidate_pairs_queue_order', table_name='candidate_pairs')
