"""Migrations build the schema from empty on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from server.db import migrate
from server.db.models import Base
from server.db.session import Database


def test_migrations__from_empty_to_head__match_the_models(database_url: str, database: Database) -> None:
    # database_url was migrated from an empty database by the session fixture.
    migrate.check(database_url)  # raises if autogenerate would produce operations
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrations__downgrade_to_base_and_up_again(database_url: str, database: Database) -> None:
    cfg = migrate.alembic_config(database_url)
    database.engine.dispose()
    command.downgrade(cfg, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    migrate.check(database_url)


def test_migrations__the_duplicate_queue_is_read_in_index_order(database: Database) -> None:
    """The index alembic cannot compare (a DESC column) exists, and the queue's first page is
    read from it without sorting every pending pair."""
    catalogue = ("SELECT name FROM sqlite_master WHERE type = 'index'" if database.is_sqlite
                 else "SELECT indexname FROM pg_indexes WHERE tablename = 'candidate_pairs'")
    with database.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql(catalogue)}
        assert "ix_candidate_pairs_queue_order" in names
        if database.is_sqlite:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM candidate_pairs WHERE status = 'pending' "
                "ORDER BY score DESC, created_at, id LIMIT 50"))
            assert "ix_candidate_pairs_queue_order" in plan and "TEMP B-TREE" not in plan
