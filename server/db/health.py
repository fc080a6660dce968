"""Is the database reachable and migrated? One answer for `sahakum serve`, every CLI command's
error message and `/readyz`.

Messages are one line, name SAHAKUM_DATABASE_URL and show the URL without its password.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from server.db.migrate import alembic_config


def shown_url(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(orig).__name__


def _missing_table(exc: DBAPIError) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def describe_database_error(exc: DBAPIError, database_url: str) -> str:
    """One line for an operator. Database error texts can quote values, so the driver's text is
    shown only for a failure to connect (no statement ran), never for a failed statement."""
    url = shown_url(database_url)
    if _missing_table(exc):
        return (
            f"the database at SAHAKUM_DATABASE_URL ({url}) has no Sahakum tables: "
            "run `sahakum db upgrade`"
        )
    if exc.statement is None:
        return f"cannot connect to the database at SAHAKUM_DATABASE_URL ({url}): {_first_line(exc)}"
    return f"database error at SAHAKUM_DATABASE_URL ({url}): {type(exc.orig).__name__}"


@dataclass(frozen=True)
class DatabaseState:
    problem: str | None  # one line, or None when reachable and migrated to the newest revision
    current: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()
    reachable: bool = True

    @property
    def ready(self) -> bool:
        return self.problem is None


def expected_revisions(database_url: str) -> tuple[str, ...]:
    return tuple(sorted(ScriptDirectory.from_config(alembic_config(database_url)).get_heads()))


def database_state(engine: Engine, database_url: str) -> DatabaseState:
    """Reachable, and at the newest migration? Runs one short read."""
    expected = expected_revisions(database_url)
    try:
        with engine.connect() as conn:
            current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    except DBAPIError as exc:
        return DatabaseState(describe_database_error(exc, database_url), (), expected, reachable=False)
    if current != expected:
        shown = ", ".join(current) or "empty"
        problem = (
            f"the database at SAHAKUM_DATABASE_URL ({shown_url(database_url)}) is at migration "
            f"{shown}, this version of Sahakum needs {', '.join(expected)}: run `sahakum db upgrade`"
        )
        return DatabaseState(problem, current, expected)
    return DatabaseState(None, current, expected)
