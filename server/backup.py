"""Backups: a consistent copy of the database, the attachments and the instance secret, with a
manifest of SHA-256 hashes; and their restore into an empty database.

Layout of a backup folder (owner-only: it holds every name and phone number):

    manifest.json          format, Sahakum version, migration, SHA-256 of every other file
    database.sqlite3       SQLite, copied with SQLite's online backup API (a consistent snapshot
                           while the server keeps writing), or
    database.pgdump        PostgreSQL, `pg_dump --format=custom` (one snapshot transaction)
    data/attachments/...   the stored attachments (from the data folder or object storage;
                           restored to wherever SAHAKUM_STORAGE_URL points then)
    instance/secret_key    the generated secret key (absent when SAHAKUM_SECRET_KEY is set)

The database is copied before the attachments: an attachment row is committed only after its
file is in place, so every file the copied database names is there when the files are copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from server.config import Settings
from server.db.health import expected_revisions
from server.db.session import Database
from server.private_files import private_dir
from server.storage import ATTACHMENTS_DIR, make_store

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "instance/secret_key"  # noqa: S105 - a path, not a secret


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line for the operator."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    database: str
    files: int
    revision: str
    needs_upgrade: bool = False


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(url: URL) -> dict[str, str]:
    """libpq settings in the environment: a password on the command line is visible in `ps`."""
    env = dict(os.environ)
    for key, value in {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }.items():
        if value:
            env[key] = str(value)
    return env


def _run(command: list[str], url: URL) -> None:
    try:
        result = subprocess.run(command, env=_pg_env(url), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from None
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if line.strip()), "failed")
        raise BackupError(f"{command[0]}: {first.strip()[:300]}")


def _copy_database(db: Database, target: Path) -> str:
    url = make_url(db.url)
    if db.is_sqlite:
        source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        copy = sqlite3.connect(target / SQLITE_FILE)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return SQLITE_FILE
    dump = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target / PG_FILE)]
    _run(dump, url)
    return PG_FILE


def _current_revision(db: Database) -> str:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return ",".join(sorted(MigrationContext.configure(conn).get_current_heads()))


def create_backup(settings: Settings, db: Database, path: Path) -> BackupSummary:
    if path.exists() and any(path.iterdir()):
        raise BackupError(f"{path} is not empty: give a new folder for the backup")
    private_dir(path)
    revision = _current_revision(db)
    database_file = _copy_database(db, path)
    # From the data folder or object storage alike (server/storage.py), one file at a time.
    store = make_store(settings.data_dir, settings.storage_url)
    for stored_name in store.names():
        private_dir(path / "data" / ATTACHMENTS_DIR)
        store.fetch(stored_name, path / "data" / ATTACHMENTS_DIR / stored_name)
    secret = settings.instance_dir / "secret_key"
    if secret.is_file():
        private_dir(path / "instance")
        shutil.copy2(secret, path / SECRET_FILE)
    files = {
        p.relative_to(path).as_posix(): sha256_file(p)
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {
        "format": FORMAT,
        "sahakum_version": version("sahakum"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {"kind": "sqlite" if db.is_sqlite else "postgresql", "file": database_file},
        "migration": revision,
        "files": files,
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupSummary(path, database_file, len(files), revision)


def verify_backup(path: Path) -> dict:
    """The manifest, once every file it lists has its recorded hash."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{path} has no readable {MANIFEST}: not a Sahakum backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not supported (expected {FORMAT})")
    for name, digest in manifest["files"].items():
        file = path / name
        if not file.is_file() or sha256_file(file) != digest:
            raise BackupError(f"{name} is missing or does not match the manifest: the backup is damaged")
    return manifest


def _restore_database(db: Database, path: Path, manifest: dict) -> None:
    kind = "sqlite" if db.is_sqlite else "postgresql"
    if manifest["database"]["kind"] != kind:
        raise BackupError(
            f"this is a {manifest['database']['kind']} backup; SAHAKUM_DATABASE_URL is {kind}"
        )
    if inspect(db.engine).get_table_names():
        raise BackupError("the database at SAHAKUM_DATABASE_URL is not empty: restore into an empty one")
    url = make_url(db.url)
    if db.is_sqlite:
        db.dispose()
        source = sqlite3.connect(f"file:{path / SQLITE_FILE}?mode=ro", uri=True)
        target = sqlite3.connect(url.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname",
          url.database or "", str(path / PG_FILE)], url)


def _restore_files(settings: Settings, path: Path, manifest: dict) -> int:
    restored = 0
    store = make_store(settings.data_dir, settings.storage_url)
    attachments = f"data/{ATTACHMENTS_DIR}/"
    for name in manifest["files"]:
        if name.startswith(attachments) and settings.storage_url:
            store.restore(path / name, name.removeprefix(attachments))
            restored += 1
            continue
        if name.startswith("data/"):
            target = settings.data_dir / name.removeprefix("data/")
        elif name == SECRET_FILE:
            target = settings.instance_dir / "secret_key"
        else:
            continue
        private_dir(target.parent)
        if target.exists() and name != SECRET_FILE and sha256_file(target) != manifest["files"][name]:
            raise BackupError(f"{target} exists with other content: restore into an empty data folder")
        shutil.copy2(path / name, target)
        restored += 1
    return restored


def restore_backup(settings: Settings, db: Database, path: Path) -> BackupSummary:
    """Check every hash, then load the database (which must be empty) and copy the files back."""
    manifest = verify_backup(path)
    _restore_database(db, path, manifest)
    files = _restore_files(settings, path, manifest)
    # Restored as it was made; an older backup is brought forward by `sahakum db upgrade`.
    needs_upgrade = manifest["migration"] != ",".join(expected_revisions(db.url))
    return BackupSummary(path, manifest["database"]["file"], files, manifest["migration"], needs_upgrade)
