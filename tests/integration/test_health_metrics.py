# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""/healthz, /readyz and /metrics: what an operator sees, and what a stranger does not."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from server import create_app
from server.config import Settings
from server.db.models import Submission, SubmissionState, utcnow
from server.db.models.cases import CandidatePair, EntityType
from server.db.session import Database
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.instances import build_instance
from tests.support.staff_api import make_member, make_submission

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
METRICS_TOKEN = "metrics-token-0123456789"


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(wanted)}\}})? (\S+)$" if wanted else rf"^{name} (\S+)$"
    match = re.search(pattern, body, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_healthz__200_without_touching_the_database(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", data_dir=tmp_path / "d",
        secret_key="k" * 20, base_url=None, max_submission_bytes=10_000_000, instance_dir=tmp_path,
    )
    client = create_app(settings).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "unreachable"
    assert "127.0.0.1" not in ready.get_data(as_text=True)  # no addresses for strangers


def test_readyz__ready_when_migrated_and_nothing_waits(client: FlaskClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    checks = {"database": "ok", "migrations": "ok", "merger": "ok"}
    assert r.get_json() == {"status": "ready", "checks": checks}


def test_readyz__merger_stalled_when_a_submission_waits_past_the_limit(
    client: FlaskClient, db: Database
) -> None:
    an_hour_ago = utcnow() - timedelta(hours=1)
    with db.transaction() as s:
        sub = make_submission(s, state=SubmissionState.RECEIVED)
        s.execute(update(Submission).where(Submission.id == sub.id).values(updated_at=an_hour_ago))
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"]["merger"].startswith("stalled")


def test_readyz__migrations_not_current(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}", data_dir=tmp_path / "d",
        secret_key="k" * 20, base_url=None, max_submission_bytes=10_000_000, instance_dir=tmp_path,
    )
    r = create_app(settings).test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"] == {"database": "ok", "migrations": "not current", "merger": "unknown"}


def test_metrics__without_token_only_direct_local_requests(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_overrides=REMOTE).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


@pytest.fixture
def token_app(settings: Settings, db: Database) -> Any:
    app = create_app(dataclasses.replace(settings, metrics_token=METRICS_TOKEN), {"TESTING": True})
    yield app
    app.extensions["sahakum_db"].dispose()


def test_metrics__with_token_configured_the_token_is_required_even_locally(token_app: Flask) -> None:
    client = token_app.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer wrong-token-000000000"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    ok = client.get("/metrics", headers=right, environ_overrides=REMOTE)
    assert ok.status_code == 200


def test_metrics__intake_queues_and_pairs_counted_without_personal_data(
    published_forms: Any, pe: CollectClient, client: FlaskClient, db: Database, accounts: Any
) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    entry = next(e for e in pe.form_list() if e.form_id == "workplace_visit")
    media = {m.filename: pe.download_media(m) for m in pe.manifest(entry)}
    xml = build_instance(pe.download_form(entry), media=media)
    assert pe.submit(xml)[-1].status_code == 201
    assert pe.submit(b"<not-xml")[-1].status_code == 400
    with db.transaction() as s:
        a = make_member(s, "M-0001", given_name_km="Sreymom", phone="+85512999888")
        b = make_member(s, "M-0002", given_name_km="Sreymom", phone="+85512999888")
        s.add(CandidatePair(entity_type=EntityType.MEMBER, a_id=a.id, b_id=b.id, score=0.9, band="probable"))
        make_submission(s, state=SubmissionState.MERGE_FAILED)
    body = client.get("/metrics").get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return sample(body, name, **labels) - sample(before, name, **labels)

    assert grew("sahakum_submissions_received_total", status="201") == 1
    assert grew("sahakum_submissions_received_total", status="400") == 1
    assert grew("sahakum_intake_seconds_count") == 2
    assert sample(body, "sahakum_database_up") == 1
    assert sample(body, "sahakum_submissions", state="merged") + sample(body, "sahakum_submissions",
                                                                        state="received") >= 1
    assert sample(body, "sahakum_merge_failures") == 1
    assert sample(body, "sahakum_duplicate_pairs_pending", entity_type="member") == 1
    assert sample(body, "sahakum_merge_lag_seconds") >= 0
    for secret in ("Sreymom", "85512999888", "uuid:", accounts["peer_educator"].token):
        assert secret not in body


def test_readyz__mergers_expected__not_ready_until_a_merger_beats_and_again_once_it_stops(
    app: Flask, db: Database
) -> None:
    """`sahakum serve` expects merger processes: /readyz needs one that beat within a minute;
    /metrics says how many are alive and how old the last beat is."""
    import threading

    from server.api.health import EXPECT_MERGERS
    from server.db.models import MergerHeartbeat
    from server.sync.heartbeat import sqlite_beats_dir
    from server.sync.merger import run_merger

    app.config[EXPECT_MERGERS] = True
    folder = sqlite_beats_dir(db)
    if folder is not None and folder.is_dir():  # beats of mergers other tests started (or killed)
        for old_beat in folder.iterdir():
            old_beat.unlink()
    client = app.test_client()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"]["merger"] == "no merger alive (last heartbeat: never)"
    assert "sahakum_mergers_alive 0.0" in client.get("/metrics").get_data(as_text=True)

    stop = threading.Event()
    merger = threading.Thread(target=run_merger, args=(db, stop), kwargs={"poll": 0.05})
    merger.start()
    try:
        for _ in range(200):
            if client.get("/readyz").status_code == 200:
                break
            stop.wait(0.05)
        assert client.get("/readyz").get_json()["checks"]["merger"] == "ok"
        body = client.get("/metrics").get_data(as_text=True)
        assert sample(body, "sahakum_mergers_alive") == 1
        assert 0 <= sample(body, "sahakum_merger_heartbeat_age_seconds") < 60
    finally:
        stop.set()
        merger.join(10)
    # A merger that stops removes its row; one that was killed leaves an old beat behind.
    assert client.get("/readyz").status_code == 503
    if folder is None:
        with db.transaction() as s:
            s.add(MergerHeartbeat(id="host:1:dead", beat_at=utcnow() - timedelta(minutes=5)))
    else:  # SQLite: beats are files (no write lock taken for them)
        dead = folder / "host_1_dead"
        dead.touch()
        five_minutes_ago = time.time() - 300
        os.utime(dead, (five_minutes_ago, five_minutes_ago))
    r = client.get("/readyz")
    if folder is not None:
        dead.unlink()  # the SQLite file outlives the test's tables
    assert r.status_code == 503
    assert r.get_json()["checks"]["merger"].startswith("no merger alive (last heartbeat: 3")


def test_readyz__serve_expects_mergers_unless_merging_after_reply(settings: Settings) -> None:
    from server.api.health import EXPECT_MERGERS
    from server.cli import serve_app

    app = serve_app(settings)
    assert app.config[EXPECT_MERGERS] is True
    app.extensions["sahakum_db"].dispose()
    app = serve_app(settings, merge_after_reply=True, sweep_interval=None)
    assert app.config[EXPECT_MERGERS] is False
    app.extensions["sahakum_db"].dispose()
