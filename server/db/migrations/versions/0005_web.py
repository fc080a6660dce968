"""staff web sign-in: password hash, one-time set-up link, lockout, language; submission
versions indexed by instanceID (the staff pages open submissions by it)

Revision ID: 0005_web
Revises: 0004_casework
Create Date: 2026-12-02 02:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import server.db.models.base


revision: str = '0005_web'
down_revision: str | Sequence[str] | None = '0004_casework'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('password_set_at', server.db.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('setup_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('setup_expires_at', server.db.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_signins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', server.db.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_staff_users_setup_token_hash'), ['setup_token_hash'])
    with op.batch_alter_table('submission_versions', schema=None) as batch_op:
        batch_op.create_index('ix_submission_versions_instance_id', ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_versions_instance_id')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_staff_users_setup_token_hash'), type_='unique')
        batch_op.drop_column('language')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_signins')
        batch_op.drop_column('setup_expires_at')
        batch_op.drop_column('setup_token_hash')
        batch_op.drop_column('password_set_at')
        batch_op.drop_column('password_hash')
