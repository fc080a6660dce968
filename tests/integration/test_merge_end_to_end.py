"""Collect -> POST /submission -> after-reply hook -> merged case; and the gazetteer seed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from server.db.models import (
    Form,
    Member,
    Referral,
    Submission,
    SubmissionState,
    Village,
    Workplace,
)
from server.db.session import Database
from server.sync import cases, review
from server.sync.villages import load_villages
from tests.integration.test_merge_intake import intake
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.submissions import build_xml

pytestmark = pytest.mark.usefixtures("published_forms")


def _form_xml(db: Database, form_id: str) -> bytes:
    with db.sessionmaker() as s:
        return s.scalar(select(Form).where(Form.xml_form_id == form_id)).versions[-1].xml


def test_post_intake__merged_after_reply(db: Database, pe: CollectClient) -> None:  # noqa: F811
    xml = build_xml(_form_xml(db, "member_intake"), intake(health_now="yes"),
                    instance_id=f"uuid:{uuid.uuid4()}")
    (response,) = pe.submit(xml)
    assert response.status_code == 201
    with db.sessionmaker() as s:
        assert s.scalar(select(Submission)).state == SubmissionState.MERGED
        assert s.scalar(select(Member)).member_code == "7K3Q9M-X"
        assert s.scalar(select(Referral)).category.value == "health"
    # Collect resends the identical XML (lost reply): nothing is merged twice.
    (again,) = pe.submit(xml)
    assert again.status_code == 201
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 1
        assert s.scalar(select(func.count()).select_from(Referral)) == 1


def test_merge_and_unmerge_workplaces(db: Database) -> None:
    with db.transaction() as s:
        a = cases.create_workplace(s, name_latin="Happy KTV", village_code="18010403")
        b = cases.create_workplace(s, name_km="ហេបភី ខារ៉ាអូខេ", village_code="18010403")
        a_id, b_id = a.id, b.id
    with db.transaction() as s:
        before = review.row_snapshot(s.get(Workplace, b_id))
        event = review.merge_workplaces(s, (a_id, b_id), "staff:case1")
        event_id = event.id
    with db.sessionmaker() as s:
        survivor = s.get(Workplace, a_id)
        assert {n.name_km for n in survivor.names} >= {"ហេបភី ខារ៉ាអូខេ"}
        assert s.get(Workplace, b_id).merged_into_workplace_id == a_id
    with db.transaction() as s:
        review.unmerge(s, event_id, "staff:case1")
    with db.sessionmaker() as s:
        assert review.row_snapshot(s.get(Workplace, b_id)) == before
        assert [n.name_latin for n in s.get(Workplace, a_id).names] == ["Happy KTV"]


def test_villages_load__seeds_gazetteer_idempotently(db: Database) -> None:
    with db.transaction() as s:
        first = load_villages(s)
    with db.transaction() as s:
        second = load_villages(s)
        assert first["added"] > 14000 and second["added"] == 0
        row = s.scalar(select(Village).where(Village.code == "18040203"))
        assert row.commune_code == "180402" and row.province_code == "18"
        assert row.gazetteer_version == "MEF-2025"
