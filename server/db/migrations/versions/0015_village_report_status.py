"""village reports by status and month: the report's count of corrections pending

The indicator report counts the village reports of its months waiting for a correction. With
only the period_ym index SQLite read every report of a year (10,000 rows, 12 ms) to find the
few pending; an index on (status, period_ym) answers from the index.

Revision ID: 0015_village_report_status
Revises: 0014_report_indexes
Create Date: 2026-12-02 11:20:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0015_village_report_status'
down_revision: str | Sequence[str] | None = '0014_report_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('village_reports', schema=None) as batch_op:
        batch_op.create_index('ix_village_reports_status_period_ym', ['status', 'period_ym'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('village_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_village_reports_status_period_ym')
