"""`sahakum demo load`: fictional data through the OpenRosa path, sign-ins printed, never mixed
into a database that holds other records."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from server.cli import main
from server.db.models import Submission, SubmissionState
from server.db.models.cases import CandidatePair, Member, MonitoringVisit, Referral, VillageReport
from server.db.session import Database
from tests.support.staff_api import make_member
from tests.support.web import WebClient

pytestmark = pytest.mark.usefixtures("published_forms")


def run(app: Flask, *args: str) -> object:
    env = {"SAHAKUM_DATABASE_URL": app.config["SAHAKUM"].database_url,
           "SAHAKUM_INSTANCE_DIR": str(app.config["SAHAKUM"].instance_dir)}
    return CliRunner().invoke(main, ["demo", "load", *args], env=env)


def test_demo_load__fictional_data_merged_and_sign_ins_printed(db: Database, app: Flask, client):
    out = run(app)
    assert out.exit_code == 0, out.output
    with db.transaction() as s:
        states = set(s.scalars(select(Submission.state)))
        assert states == {SubmissionState.MERGED}  # sent through /v1/.../submission and merged
        assert s.scalar(select(func.count()).select_from(Member)) == 5
        assert all(m.name_latin_raw.startswith("DEMO ") for m in s.scalars(select(Member)))
        (pair,) = s.scalars(select(CandidatePair)).all()
        assert pair.entity_type == "member" and pair.status == "pending"
        referrals = {(str(r.category), str(r.priority)) for r in s.scalars(select(Referral))}
        assert ("child_protection", "urgent") in referrals
        assert s.scalar(select(func.count()).select_from(MonitoringVisit)) == 3
        assert s.scalar(select(func.count()).select_from(VillageReport)) == 2
    logins = dict(re.findall(r"name: (demo-\w+)\s+password: (\S+)", out.output))
    assert set(logins) == {"demo-admin", "demo-case", "demo-child", "demo-me"}
    web = WebClient(client)
    assert web.sign_in("demo-child", logins["demo-child"]).status_code == 302
    html = web.get("/").get_data(as_text=True)
    assert "ជាការប្រឌិត" in html  # the fictional-data banner


def test_demo_load__again_keeps_the_data_and_renews_passwords(db: Database, app: Flask):
    first = run(app)
    second = run(app)
    assert second.exit_code == 0 and "already loaded" in second.output
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 10
    pw = re.compile(r"name: demo-case\s+password: (\S+)")
    assert pw.search(first.output).group(1) != pw.search(second.output).group(1)


def test_demo_load__refuses_a_database_with_other_records(db: Database, app: Flask):
    with db.transaction() as s:
        make_member(s, "REAL01-1")
    out = run(app)
    assert out.exit_code != 0 and "fictional" in out.output
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0
