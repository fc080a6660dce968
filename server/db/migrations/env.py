from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from server.db.models import Base

config = context.config
target_metadata = Base.metadata
if not config.get_main_option("sqlalchemy.url"):
    # Plain `alembic ...` from the repository root: use the same setting as the server.
    from server.config import load_settings

    config.set_main_option("sqlalchemy.url", load_settings().database_url.replace("%", "%%"))


#: Indexes with a DESC column: SQLite reflects them without the direction, so autogenerate would
#: always see a difference. Their presence is checked by tests/integration/test_migrations.py.
ORDERED_INDEXES = frozenset({"ix_candidate_pairs_queue_order"})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and name in ORDERED_INDEXES)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
