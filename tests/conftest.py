"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
SAHAKUM_TEST_DATABASE_URL points at a server (a fresh database is created there per run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from server import create_app
from server.config import Settings
from server.db import migrate
from server.db.models import Base
from server.db.session import Database
from server.xforms.compile import CompiledForm, compile_xlsform
from server.xforms.publish import FORMS_DIR, default_form_paths

PG_URL_ENV = "SAHAKUM_TEST_DATABASE_URL"


def _create_database_url(tmp_root: Path) -> tuple[str, str | None]:
    base = os.environ.get(PG_URL_ENV)
    if not base:
        return f"sqlite:///{tmp_root / 'test.sqlite3'}", None
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"sahakum_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throw-away test database: no need to wait for WAL flushes on every commit.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2id as in production, with the smallest cost: tests sign in hundreds of times on a
    shared machine; the production cost (64 MiB, t=3) is tested in tests/unit/test_passwords.py."""
    from argon2 import PasswordHasher

    from server.accounts import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = production


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, pg_name = _create_database_url(tmp_path_factory.mktemp("db"))
    migrate.upgrade(url)
    yield url
    if pg_name:
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


# Reference data the migrations seed (e.g. the referral services list): kept between tests.
SEEDED_TABLES = frozenset({"referral_services"})


def _wipe(db: Database) -> None:
    # DELETE, not TRUNCATE: on PostgreSQL truncating ~30 small tables costs about a second a test.
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in SEEDED_TABLES:
                conn.execute(table.delete())


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The migrated test database, emptied after each test (tests may commit, even from threads)."""
    yield database
    _wipe(database)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.sessionmaker() as s:
        yield s
        s.rollback()


@pytest.fixture
def is_postgres(database: Database) -> bool:
    return not database.is_sqlite


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = bool(os.environ.get(PG_URL_ENV))
    unit_dir = Path(__file__).parent / "unit"
    kept, deselected = [], []
    for item in items:
        if unit_dir in item.path.parents:
            item.add_marker(pytest.mark.dbless)  # unit tests are pure by definition (design.md)
        if item.get_closest_marker("postgres_only") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set SAHAKUM_TEST_DATABASE_URL)"))
        if item.get_closest_marker("dbless") and on_postgres:
            # The SQLite pass already ran it; the database cannot change its outcome.
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789",
        base_url=None,
        max_submission_bytes=10_000_000,
        instance_dir=tmp_path / "instance",
    )


@pytest.fixture
def app(settings: Settings, db: Database) -> Iterator[Flask]:
    application = create_app(settings, {"TESTING": True})
    yield application
    application.extensions["sahakum_db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def compiled_forms() -> dict[str, CompiledForm]:
    """The programme's forms, compiled once per run (pyxform is slow)."""
    forms = {}
    for path in default_form_paths():
        compiled = compile_xlsform(path)
        forms[compiled.form_id] = compiled
    return forms


@pytest.fixture
def published_forms(db: Database, compiled_forms: dict[str, CompiledForm]) -> dict[str, CompiledForm]:
    from server.xforms.publish import publish_compiled

    with db.transaction() as s:
        for compiled in compiled_forms.values():
            publish_compiled(s, compiled, FORMS_DIR / "media")
        _seed_home_villages(s)
    return compiled_forms


#: The commune the tests' women come from: member_intake asks her home village by name and the
#: merge finds its code among the commune's villages (the whole gazetteer is too slow per test).
HOME_COMMUNE = "140401"


def _seed_home_villages(session: Session) -> None:
    import csv

    from server.db.models import Village

    with (FORMS_DIR / "media" / "villages.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if row["commune"] == HOME_COMMUNE and not row["name"].startswith("unk-"):
                km, _, en = row["label"].partition(" / ")
                session.add(Village(code=row["name"], commune_code=HOME_COMMUNE,
                                    district_code=HOME_COMMUNE[:4], province_code=HOME_COMMUNE[:2],
                                    name_km=km, name_en=en, gazetteer_version="MEF-2025"))
