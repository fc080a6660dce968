"""listing: the staff list's filter columns on submissions (event date/month, commune, has alert)

Backfilled from the case rows with the precedence of sync.merge.list_columns.stamp: a member
intake, overridden by a workplace visit, overridden by a village report.

Revision ID: 0009_listing
Revises: 0008_reporting
Create Date: 2026-12-02 04:20:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_listing'
down_revision: str | Sequence[str] | None = '0008_reporting'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FROM_MEMBER = """
UPDATE submissions SET
  event_date = (SELECT m.intake_date FROM members m WHERE m.source_submission_id = submissions.id
                ORDER BY m.id LIMIT 1),
  commune_code = (SELECT w.commune_code FROM members m LEFT JOIN workplaces w ON w.id = m.current_workplace_id
                  WHERE m.source_submission_id = submissions.id ORDER BY m.id LIMIT 1)
WHERE EXISTS (SELECT 1 FROM members m WHERE m.source_submission_id = submissions.id)
"""
_FROM_VISIT = """
UPDATE submissions SET
  event_date = (SELECT v.visit_date FROM monitoring_visits v WHERE v.submission_id = submissions.id LIMIT 1),
  commune_code = (SELECT w.commune_code FROM monitoring_visits v LEFT JOIN workplaces w ON w.id = v.workplace_id
                  WHERE v.submission_id = submissions.id LIMIT 1)
WHERE EXISTS (SELECT 1 FROM monitoring_visits v WHERE v.submission_id = submissions.id)
"""
# A period that is not YYYY-MM with a real month gives no date (as list_columns.month_start).
_MONTH = {
    'postgresql': "CASE WHEN r.period_ym ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN to_date(r.period_ym, 'YYYY-MM') END",
    'sqlite': "CASE WHEN r.period_ym GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'"
              " AND substr(r.period_ym, 6, 2) BETWEEN '01' AND '12' THEN r.period_ym || '-01' END",
}
_FROM_REPORT = """
UPDATE submissions SET
  event_month = :yes,
  event_date = (SELECT {month} FROM village_reports r WHERE r.submission_id = submissions.id LIMIT 1),
  commune_code = (SELECT r.commune_code FROM village_reports r WHERE r.submission_id = submissions.id LIMIT 1)
WHERE EXISTS (SELECT 1 FROM village_reports r WHERE r.submission_id = submissions.id)
"""
_ALERT = """
UPDATE submissions SET has_alert = EXISTS (
  SELECT 1 FROM referral_sources s WHERE s.submission_id = submissions.id AND s.active = :yes)
"""


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('event_month', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('commune_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('has_alert', sa.Boolean(), server_default=sa.false(), nullable=False))
    bind = op.get_bind()
    bind.execute(sa.text(_FROM_MEMBER))
    bind.execute(sa.text(_FROM_VISIT))
    bind.execute(sa.text(_FROM_REPORT.format(month=_MONTH[bind.dialect.name])), {'yes': True})
    bind.execute(sa.text(_ALERT), {'yes': True})
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_commune_created_at', ['commune_code', 'created_at'], unique=False)
        batch_op.create_index('ix_submissions_event_date_created_at', ['event_date', 'created_at'], unique=False)
        batch_op.create_index('ix_submissions_has_alert_created_at', ['has_alert', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_has_alert_created_at')
        batch_op.drop_index('ix_submissions_event_date_created_at')
        batch_op.drop_index('ix_submissions_commune_created_at')
        batch_op.drop_column('has_alert')
        batch_op.drop_column('commune_code')
        batch_op.drop_column('event_month')
        batch_op.drop_column('event_date')
