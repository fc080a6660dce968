"""report indexes: each workplace's last visit read from one covering index; referral event dates

The indicator report reads each workplace's last counted visit by the period end: an index on
(workplace_id, visit_date, submission_id, risk_level) answers it without reading the table, the
exclusion of rejected submissions included. It replaces the (workplace_id, visit_date) index of
0008_reporting, which duplicated ix_monitoring_visits_workplace_date. Referrals are counted by
their event date.

Revision ID: 0014_report_indexes
Revises: 0013_merger_heartbeats
Create Date: 2026-12-02 07:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0014_report_indexes'
down_revision: str | Sequence[str] | None = '0013_merger_heartbeats'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('monitoring_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_visits_workplace_id_visit_date')
        batch_op.create_index('ix_monitoring_visits_last_risk',
                              ['workplace_id', 'visit_date', 'submission_id', 'risk_level'], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_event_date', ['event_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_event_date')
    with op.batch_alter_table('monitoring_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_visits_last_risk')
        batch_op.create_index('ix_monitoring_visits_workplace_id_visit_date', ['workplace_id', 'visit_date'],
                              unique=False)
