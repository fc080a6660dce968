"""intake: entity-list versions kept by triggers

Revision ID: 0004_intake
Revises: 0003
Create Date: 2026-12-02 02:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_intake'
down_revision: str | Sequence[str] | None = '0004_merge_speed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIST_TABLES = ("members", "workplaces", "workplace_names")

# Deferred to COMMIT, once per transaction: the counter row is locked only while committing,
# so concurrent merges do not queue behind each other for the whole of their transactions.
PG_BUMP = """
CREATE FUNCTION sahakum_bump_lists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sahakum.lists_bumped', true) IS DISTINCT FROM '1' THEN
        INSERT INTO list_versions (name, version) VALUES ('cases', 1)
            ON CONFLICT (name) DO UPDATE SET version = list_versions.version + 1;
        PERFORM set_config('sahakum.lists_bumped', '1', true);
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table('list_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_list_versions'))
    )
    op.execute("INSERT INTO list_versions (name, version) VALUES ('cases', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_BUMP)
        for table in LIST_TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_bump_lists AFTER INSERT OR UPDATE OR DELETE"
                f" ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                " EXECUTE FUNCTION sahakum_bump_lists()"
            )
        return
    # SQLite: one writer at a time, so a plain row trigger costs nothing worth deferring.
    for table in LIST_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_bump_lists_{event.lower()} AFTER {event} ON {table} BEGIN"
                " INSERT OR IGNORE INTO list_versions (name, version) VALUES ('cases', 0);"
                " UPDATE list_versions SET version = version + 1 WHERE name = 'cases'; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LIST_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_lists ON {table}")
        op.execute("DROP FUNCTION IF EXISTS sahakum_bump_lists()")
    else:
        for table in LIST_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_lists_{event}")
    op.drop_table('list_versions')
