# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""Two app servers (`sahakum serve`, gunicorn) with a merger each on one PostgreSQL database and
one object-storage bucket, receiving the same load at the same time: every submission, resend
and edit posted to both. Nothing is stored or merged twice, nothing is lost (issue 11)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from server.db.models import (
    Attachment,
    Member,
    MergerHeartbeat,
    Submission,
    SubmissionState,
    SubmissionVersion,
)
from server.db.models.cases import MonitoringVisit
from server.db.session import Database
from tests.integration.test_openrosa_submission import fill
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.s3 import S3Server, s3_server  # noqa: F401
from tests.support.serving import server_env, serving_all

pytestmark = pytest.mark.postgres_only

INTAKES, VISITS = 12, 12  # member intakes without files; workplace visits with a photo


def _instance_id(xml: bytes) -> str:
    return xml.split(b"<instanceID>")[1].split(b"</instanceID>")[0].decode()


def _post(base: str, token: str, xml: bytes, files: dict[str, bytes]) -> int:
    parts: dict[str, Any] = {"xml_submission_file": ("instance.xml", xml, "text/xml")}
    parts |= {name: (name, content, "image/jpeg") for name, content in files.items()}
    reply = requests.post(f"{base}/v1/key/{token}/submission", files=parts, timeout=120,
                          headers={"X-OpenRosa-Version": "1.0"})
    return reply.status_code


def _count(db: Database, stmt: Any) -> int:
    with db.sessionmaker() as s:
        return int(s.scalar(stmt) or 0)


def _wait_all_merged(db: Database, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        merged = _count(db, select(func.count()).select_from(Submission)
                        .where(Submission.state == SubmissionState.MERGED))
        current_merged = _count(db, select(func.count()).select_from(SubmissionVersion)
                                .join(Submission, Submission.merged_version_id == SubmissionVersion.id)
                                .where(SubmissionVersion.is_current))
        if merged == expected and current_merged == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"not all merged within {timeout}s")


def test_two_servers_two_mergers_same_load__nothing_twice_nothing_lost(
    published_forms: Any, pe: CollectClient, accounts: Any, db: Database, database_url: str,
    tmp_path: Path, s3_server: S3Server,
) -> None:
    token = accounts["peer_educator"].token
    bucket = s3_server.new_bucket()
    load: list[tuple[bytes, dict[str, bytes]]] = []
    for i in range(INTAKES):
        load.append((fill(pe, "member_intake", answers={
            "member_code": f"T2S{i:03d}-X", "name_latin": f"Twoserver Person{i}", "phone": f"0977{i:06d}",
            "consent": "yes", "consent_referral": "yes", "dob_known": "no", "age_stated": "25",
            "age_years": "25", "is_minor": "no",
        }), {}))
    for i in range(VISITS):
        load.append((fill(pe, "workplace_visit", answers={"note": "p.jpg"}), {"p.jpg": b"photo %d" % i}))
    edits = [(fill(pe, "workplace_visit", answers={"note": "p.jpg"}, deprecated_id=_instance_id(xml)), files)
             for xml, files in load[INTAKES:INTAKES + 4]]

    started = time.monotonic()
    envs = [server_env(database_url, tmp_path / name, SAHAKUM_STORAGE_URL=f"s3://{bucket}/shared",
                       **s3_server.env) for name in ("a", "b")]
    with serving_all(envs, workers=1, threads=4, mergers=1,
                     logs=[tmp_path / "a.log", tmp_path / "b.log"]) as bases:
        booted = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Each submission to both servers at once, then a resend to each, then the edits
            # (also to both at once, one of them racing its original's merge).
            first = list(pool.map(lambda job: _post(*job), [(base, token, xml, files)
                                                             for xml, files in load for base in bases]))
            resends = list(pool.map(lambda job: _post(*job), [(base, token, xml, files)
                                                              for xml, files in load for base in bases]))
            edited = list(pool.map(lambda job: _post(*job), [(base, token, xml, files)
                                                             for xml, files in edits for base in bases]))
        assert first == [201] * len(first) and resends == [201] * len(resends)
        assert edited == [201] * len(edited)
        _wait_all_merged(db, len(load), timeout=40)
        for base in bases:  # both see live mergers (their heartbeats) and no backlog
            ready = requests.get(f"{base}/readyz", timeout=30)
            assert ready.status_code == 200, ready.text
        assert _count(db, select(func.count()).select_from(MergerHeartbeat)) == 2
    finished = time.monotonic()

    # Stored once: one submission per instance, one version per POSTed XML.
    assert _count(db, select(func.count()).select_from(Submission)) == len(load)
    assert _count(db, select(func.count()).select_from(SubmissionVersion)) == len(load) + len(edits)
    # Files: one row per (version, file) and one object per distinct upload, nothing orphaned.
    with db.sessionmaker() as s:
        stored = set(s.scalars(select(Attachment.stored_name)).all())
    objects = s3_server.keys(bucket)
    assert {k.removeprefix("shared/attachments/") for k in objects} == stored
    assert len(stored) == VISITS + len(edits)  # each edit sent its photo again
    # Merged once: one member per intake, one visit per visit submission, every current version.
    assert _count(db, select(func.count()).select_from(Member)) == INTAKES
    assert _count(db, select(func.count(func.distinct(Member.source_submission_id)))) == INTAKES
    assert _count(db, select(func.count()).select_from(MonitoringVisit)) == VISITS
    with db.sessionmaker() as s:
        attempts = s.execute(select(Submission.merge_attempts, func.count(SubmissionVersion.id))
                             .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
                             .group_by(Submission.id, Submission.merge_attempts)).all()
    assert all(1 <= tried <= versions for tried, versions in attempts), attempts
    print(f"two servers: {finished - started:.1f}s, of which booting {booted - started:.1f}s")
    assert finished - started < 120, f"{finished - started:.0f}s (boot {booted - started:.0f}s)"
