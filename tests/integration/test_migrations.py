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
