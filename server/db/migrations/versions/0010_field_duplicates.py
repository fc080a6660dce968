"""field_duplicates: possible duplicate visits (same workplace, collector and day, another
instanceID) kept for staff to decide (issue 9 item 6)

Revision ID: 0010_field_duplicates
Revises: 0009_listing
Create Date: 2026-12-02 07:05:20.010166
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.models.base

revision: str = '0010_field_duplicates'
down_revision: str | Sequence[str] | None = '0009_listing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('possible_duplicate_visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('first_visit_id', sa.Uuid(), nullable=False),
    sa.Column('second_visit_id', sa.Uuid(), nullable=False),
    sa.Column('second_submission_id', sa.Uuid(), nullable=False),
    sa.Column('workplace_id', sa.Uuid(), nullable=True),
    sa.Column('pe_code', sa.String(length=100), nullable=True),
    sa.Column('visit_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'same', 'different', 'withdrawn', name='duplicatevisitstatus', native_enum=False, length=16), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', server.db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', server.db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_users.id'], name=op.f('fk_possible_duplicate_visits_decided_by_id_staff_users')),
    sa.ForeignKeyConstraint(['first_visit_id'], ['monitoring_visits.id'], name=op.f('fk_possible_duplicate_visits_first_visit_id_monitoring_visits')),
    sa.ForeignKeyConstraint(['second_submission_id'], ['submissions.id'], name=op.f('fk_possible_duplicate_visits_second_submission_id_submissions')),
    sa.ForeignKeyConstraint(['second_visit_id'], ['monitoring_visits.id'], name=op.f('fk_possible_duplicate_visits_second_visit_id_monitoring_visits')),
    sa.ForeignKeyConstraint(['workplace_id'], ['workplaces.id'], name=op.f('fk_possible_duplicate_visits_workplace_id_workplaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_possible_duplicate_visits')),
    sa.UniqueConstraint('first_visit_id', 'second_visit_id', name=op.f('uq_possible_duplicate_visits_first_visit_id_second_visit_id'))
    )
    with op.batch_alter_table('possible_duplicate_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_possible_duplicate_visits_first_visit_id'), ['first_visit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_possible_duplicate_visits_second_submission_id'), ['second_submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_possible_duplicate_visits_second_visit_id'), ['second_visit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_possible_duplicate_visits_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('possible_duplicate_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_possible_duplicate_visits_status'))
        batch_op.drop_index(batch_op.f('ix_possible_duplicate_visits_second_visit_id'))
        batch_op.drop_index(batch_op.f('ix_possible_duplicate_visits_second_submission_id'))
        batch_op.drop_index(batch_op.f('ix_possible_duplicate_visits_first_visit_id'))

    op.drop_table('possible_duplicate_visits')
