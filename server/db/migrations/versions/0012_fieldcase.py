"""fieldcase: answers the merge could not use (unfit_answers) and members' sector history
(member_sectors), backfilled with each member's current sector from her intake date.

Revision ID: 0012_fieldcase
Revises: 0011_speed_pairs_order
Create Date: 2026-12-02 07:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.models.base import UTCDateTime

revision: str = '0012_fieldcase'
down_revision: str | Sequence[str] | None = '0011_speed_pairs_order'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
INSERT INTO member_sectors (member_id, sector, since, submission_id, created_at)
SELECT id, sector, COALESCE(intake_date, joined_date, {created_date}), source_submission_id, created_at
FROM members WHERE sector IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        'unfit_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Uuid(), nullable=False),
        sa.Column('submission_version_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=64), nullable=False),
        sa.Column('repeat', sa.String(length=64), nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('limit', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('open', 'corrected', 'dismissed', 'superseded',
                                    name='unfitstatus', native_enum=False, length=16),
                  nullable=False),
        sa.Column('corrected_value', sa.Text(), nullable=True),
        sa.Column('resolved_by', sa.String(length=100), nullable=True),
        sa.Column('resolved_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id']),
        sa.ForeignKeyConstraint(['submission_version_id'], ['submission_versions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_version_id', 'field', 'repeat', 'row'),
    )
    op.create_index('ix_unfit_answers_submission_id', 'unfit_answers', ['submission_id'])
    op.create_index('ix_unfit_answers_status', 'unfit_answers', ['status'])
    op.create_table(
        'member_sectors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Uuid(), nullable=False),
        sa.Column('sector', sa.String(length=32), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('submission_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_member_sectors_member_since', 'member_sectors', ['member_id', 'since'])
    op.create_index('ix_member_sectors_submission_id', 'member_sectors', ['submission_id'])
    dialect = op.get_bind().dialect.name
    created = "CAST(created_at AS DATE)" if dialect == "postgresql" else "date(created_at)"
    op.execute(_BACKFILL.format(created_date=created))


def downgrade() -> None:
    op.drop_index('ix_member_sectors_submission_id', table_name='member_sectors')
    op.drop_index('ix_member_sectors_member_since', table_name='member_sectors')
    op.drop_table('member_sectors')
    op.drop_index('ix_unfit_answers_status', table_name='unfit_answers')
    op.drop_index('ix_unfit_answers_submission_id', table_name='unfit_answers')
    op.drop_table('unfit_answers')
