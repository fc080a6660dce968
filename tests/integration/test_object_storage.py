# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""Attachments in S3-compatible object storage (SAHAKUM_STORAGE_URL=s3://bucket/prefix), against
moto's server started by the tests: intake uploads them, staff download them, backups copy
them out and restore them in; both ways streamed, never whole in memory."""

from __future__ import annotations

import dataclasses
import hashlib
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server import create_app
from server.backup import create_backup, restore_backup
from server.config import ConfigError, Settings, load_settings
from server.db.models import Attachment, Submission
from server.db.session import Database
from server.storage import FileMove, LocalStore, S3Store, make_store
from tests.integration.test_openrosa_submission import fill
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts  # noqa: F401
from tests.support.s3 import S3Server, s3_env, s3_server  # noqa: F401
from tests.support.web import WebClient, make_staff_account

PHOTO = b"\xff\xd8\xff\xe0 a photo " * 1000


@pytest.fixture
def s3_settings(settings: Settings, s3_env: S3Server) -> Settings:
    bucket = s3_env.new_bucket()
    return dataclasses.replace(settings, storage_url=f"s3://{bucket}/site-a")


@pytest.fixture
def s3_app(s3_settings: Settings, db: Database) -> Any:
    application = create_app(s3_settings, {"TESTING": True})
    yield application
    application.extensions["sahakum_db"].dispose()


def _bucket(settings: Settings) -> str:
    return str(settings.storage_url).removeprefix("s3://").split("/")[0]


def test_storage_url__parsed_or_one_line_error(tmp_path: Path) -> None:
    env = {"SAHAKUM_INSTANCE_DIR": str(tmp_path), "SAHAKUM_SECRET_KEY": "k" * 20}
    assert load_settings(env).storage_url is None
    assert isinstance(make_store(tmp_path, None), LocalStore)
    assert load_settings({**env, "SAHAKUM_STORAGE_URL": "s3://b/p"}).storage_url == "s3://b/p"
    with pytest.raises(ConfigError, match="SAHAKUM_STORAGE_URL"):
        load_settings({**env, "SAHAKUM_STORAGE_URL": "ftp://b/p"})


def test_attachment__uploaded_to_object_storage__downloaded_by_staff__not_on_local_disk(
    s3_app: Flask, s3_settings: Settings, s3_env: S3Server, db: Database, published_forms: Any,
    accounts: Any,
) -> None:
    pe = CollectClient(s3_app.test_client(), accounts["peer_educator"].server_url)
    xml = fill(pe, "workplace_visit", answers={"note": "a.jpg"})
    assert pe.submit(xml, {"a.jpg": PHOTO})[-1].status_code == 201
    with db.transaction() as s:
        attachment = s.scalars(select(Attachment)).one()
        sub = s.scalars(select(Submission)).one()
        stored, attachment_id, instance_id = attachment.stored_name, attachment.id, sub.root_instance_id
    objects = s3_env.keys(_bucket(s3_settings))
    assert objects == {f"site-a/attachments/{stored}": PHOTO}
    assert list((s3_settings.data_dir / "attachments").iterdir()) == []
    assert list((s3_settings.data_dir / "tmp").iterdir()) == []  # the spooled upload is gone

    make_staff_account(db, "case1", "child_protection")
    web = WebClient(s3_app.test_client())
    web.sign_in("case1")
    reply = web.get(f"/submissions/{instance_id}/files/{attachment_id}")
    assert reply.status_code == 200 and reply.data == PHOTO
    assert reply.headers["Content-Disposition"].startswith("attachment;")
    # A file gone from the bucket is a 404, not a 500.
    s3_env.client().delete_object(Bucket=_bucket(s3_settings), Key=f"site-a/attachments/{stored}")
    assert web.get(f"/submissions/{instance_id}/files/{attachment_id}").status_code == 404


def test_commit_fails__uploaded_object_removed_and_nothing_stored(
    s3_app: Flask, s3_settings: Settings, s3_env: S3Server, db: Database, published_forms: Any,
    accounts: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy.orm import Session

    pe = CollectClient(s3_app.test_client(), accounts["peer_educator"].server_url)
    xml = fill(pe, "workplace_visit", answers={"note": "a.jpg"})

    def fail(self: Session) -> None:
        raise RuntimeError("commit failed")

    monkeypatch.setattr(Session, "commit", fail)
    assert pe.post(xml, {"a.jpg": PHOTO}).status_code == 500
    monkeypatch.undo()
    assert s3_env.keys(_bucket(s3_settings)) == {}


def test_streamed_both_ways__memory_stays_far_below_the_file_size(
    s3_env: S3Server, tmp_path: Path
) -> None:
    size = 48 * 1024 * 1024
    source = tmp_path / "big.part"
    digest = hashlib.sha256()
    with open(source, "wb") as fh:
        block = bytes(range(256)) * 4096  # 1 MiB
        for _ in range(size // len(block)):
            fh.write(block)
            digest.update(block)
    store = S3Store(s3_env.new_bucket(), "p")
    tracemalloc.start()
    try:
        store.place([FileMove(source, "big")])
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        stream = store.open("big")
        assert stream is not None
        back = hashlib.sha256()
        while chunk := stream.read(256 * 1024):
            back.update(chunk)
        stream.close()
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert back.hexdigest() == digest.hexdigest()
    # Measured: about 4.4 MB up (boto3's read buffers), 0.9 MB down, for a 48 MiB file.
    assert upload_peak < size / 6, upload_peak
    assert download_peak < size / 12, download_peak


def test_backup_from_object_storage_restores_into_another_bucket(
    s3_app: Flask, s3_settings: Settings, s3_env: S3Server, db: Database, published_forms: Any,
    accounts: Any, tmp_path: Path, database_url: str,
) -> None:
    if not db.is_sqlite:
        pytest.skip("the PostgreSQL restore is covered by test_backup; here the files matter")
    pe = CollectClient(s3_app.test_client(), accounts["peer_educator"].server_url)
    xml = fill(pe, "workplace_visit", answers={"note": "a.jpg"})
    assert pe.submit(xml, {"a.jpg": PHOTO})[-1].status_code == 201
    summary = create_backup(s3_settings, db, tmp_path / "backup")
    assert summary.files >= 2
    (stored_file,) = (tmp_path / "backup" / "data" / "attachments").iterdir()
    assert stored_file.read_bytes() == PHOTO

    bucket = s3_env.new_bucket()
    target_db = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restored = dataclasses.replace(
        s3_settings, database_url=target_db, storage_url=f"s3://{bucket}/site-b",
        data_dir=tmp_path / "restored-data", instance_dir=tmp_path / "restored-instance",
    )
    target = Database(target_db)
    try:
        restore_backup(restored, target, tmp_path / "backup")
    finally:
        target.dispose()
    assert s3_env.keys(bucket) == {f"site-b/attachments/{stored_file.name}": PHOTO}
