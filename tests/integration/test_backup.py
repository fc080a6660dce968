# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""`sahakum backup create` / `restore`: a restored system is identical, table by table and file by
file; a damaged backup or a non-empty database is refused before anything is written."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from server.accounts.staff import create_staff
from server.cli import main
from server.config import Settings
from server.db.models import Base, StaffRole
from server.db.session import Database
from server.sync.worker import process_pending
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.instances import build_instance
from tests.support.staff_api import make_member, make_workplace


def cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


def env_for(database_url: str, root: Path) -> dict[str, str]:
    return {
        "SAHAKUM_DATABASE_URL": database_url,
        "SAHAKUM_INSTANCE_DIR": str(root / "instance"),
        "SAHAKUM_DATA_DIR": str(root / "data"),
        "SAHAKUM_SECRET_KEY": "",
    }


@pytest.fixture
def restore_url(database: Database, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind: a new SQLite file, or `<test database>_restore`."""
    if database.is_sqlite:
        yield f"sqlite:///{tmp_path / 'restored' / 'instance' / 'sahakum.sqlite3'}"
        return
    base = make_url(os.environ["SAHAKUM_TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{base.database}_restore"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def all_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    tables = {}
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            tables[table.name] = [tuple(r) for r in conn.execute(table.select().order_by(*order))]
        tables["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT * FROM alembic_version"))]
    engine.dispose()
    return tables


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*") if p.is_file()
    }


@pytest.fixture
def filled_system(published_forms: Any, pe: CollectClient, db: Database, settings: Settings) -> None:
    """A submission with attachments (stored and merged), staff, members, workplaces, audit rows."""
    entry = next(e for e in pe.form_list() if e.form_id == "workplace_visit")
    media = {m.filename: pe.download_media(m) for m in pe.manifest(entry)}
    answers = {"note": "a.jpg", "wp_landmark": "b.jpg"}
    xml = build_instance(pe.download_form(entry), media=media, answers=answers)
    assert pe.submit(xml, {"a.jpg": os.urandom(3000), "b.jpg": os.urandom(5000)})[-1].status_code == 201
    process_pending(db)
    with db.transaction() as s:
        create_staff(s, "case-worker", StaffRole.CASE)
        for n in range(3):
            make_member(s, f"M-{n:04d}", phone=f"+8551200000{n}")
        make_workplace(s, "W-0001")


def test_backup_restored_into_an_empty_database__every_table_and_file_identical(
    filled_system: None, database_url: str, settings: Settings, restore_url: str, tmp_path: Path
) -> None:
    source_env = env_for(database_url, tmp_path / "source") | {
        "SAHAKUM_DATA_DIR": str(settings.data_dir)
    }
    backup = tmp_path / "backup"
    created = cli(source_env, "backup", "create", str(backup))
    assert created.exit_code == 0, created.output
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["kind"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    assert sum(name.startswith("data/attachments/") for name in manifest["files"]) == 2
    assert "instance/secret_key" in manifest["files"]

    restored_root = tmp_path / "restored"
    restored = cli(env_for(restore_url, restored_root), "backup", "restore", str(backup))
    assert restored.exit_code == 0, restored.output

    source_rows, restored_rows = all_rows(database_url), all_rows(restore_url)
    assert source_rows["submissions"] and source_rows["attachments"] and source_rows["members"]
    assert restored_rows == source_rows
    assert tree(restored_root / "data" / "attachments") == tree(settings.data_dir / "attachments")
    secret = (tmp_path / "source" / "instance" / "secret_key").read_bytes()
    assert (restored_root / "instance" / "secret_key").read_bytes() == secret
    assert oct(os.stat(backup).st_mode & 0o777) == oct(0o700)


def test_restore_refuses_a_damaged_backup_before_writing_anything(
    filled_system: None, database_url: str, settings: Settings, restore_url: str, tmp_path: Path
) -> None:
    source_env = env_for(database_url, tmp_path / "source") | {"SAHAKUM_DATA_DIR": str(settings.data_dir)}
    backup = tmp_path / "backup"
    assert cli(source_env, "backup", "create", str(backup)).exit_code == 0
    attachment = next((backup / "data" / "attachments").iterdir())
    attachment.write_bytes(attachment.read_bytes() + b"x")
    result = cli(env_for(restore_url, tmp_path / "restored"), "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert "does not match the manifest" in result.output
    engine = create_engine(restore_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    assert not (tmp_path / "restored" / "data").exists()


def test_restore_refuses_a_database_that_is_not_empty(
    filled_system: None, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    env = env_for(database_url, tmp_path / "source") | {"SAHAKUM_DATA_DIR": str(settings.data_dir)}
    backup = tmp_path / f"backup-{uuid.uuid4().hex[:6]}"
    assert cli(env, "backup", "create", str(backup)).exit_code == 0
    result = cli(env, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert "is not empty" in result.output


def test_backup_create_refuses_a_folder_with_files(database_url: str, db: Database, tmp_path: Path) -> None:
    target = tmp_path / "old"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    result = cli(env_for(database_url, tmp_path), "backup", "create", str(target))
    assert result.exit_code == 1 and "not empty" in result.output
