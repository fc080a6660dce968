"""merge speed: duplicate clusters, queue and latest-visit indexes

Revision ID: 0004_merge_speed
Revises: 0003
Create Date: 2026-12-02 02:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_merge_speed'
down_revision: str | Sequence[str] | None = '0005_web'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('candidate_pairs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_candidate_pairs_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index('ix_candidate_pairs_queue', ['status', 'score'], unique=False)
    with op.batch_alter_table('monitoring_visits', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_visits_workplace_date', ['workplace_id', 'visit_date'], unique=False)
    with op.batch_alter_table('workplace_versions', schema=None) as batch_op:
        batch_op.create_index('ix_workplace_versions_in_force', ['workplace_id', 'event_date', 'version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workplace_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_workplace_versions_in_force')
    with op.batch_alter_table('monitoring_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_visits_workplace_date')
    with op.batch_alter_table('candidate_pairs', schema=None) as batch_op:
        batch_op.drop_index('ix_candidate_pairs_queue')
        batch_op.drop_index(batch_op.f('ix_candidate_pairs_cluster_id'))
        batch_op.drop_column('cluster_id')
