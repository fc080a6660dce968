"""Entity lists for Collect: codes and public sign names only; hash; integrity."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Collector, FormMedia, Member
from server.db.session import Database
from server.sync import cases, review
from server.sync.lists import (
    MEMBERS_HEADER,
    WORKPLACES_HEADER,
    build_list,
    entity_integrity,
    media_hash,
)
from server.sync.worker import process_submission
from tests.integration.test_merge_intake import intake
from tests.integration.test_merge_visit import entity, visit
from tests.support.submissions import add_submission, collector

pytestmark = pytest.mark.usefixtures("published_forms")


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


@pytest.fixture
def filled(db: Database) -> dict[str, uuid.UUID]:
    with db.transaction() as s:
        wp = cases.create_workplace(s, name_km="ហេបភី", name_latin="Happy KTV", type="karaoke",
                                    village_code="18010101")
        far = cases.create_workplace(s, name_latin="Far Away Bar", village_code="18020701")
        wp_id, far_id = wp.id, far.id
        sid = add_submission(s, "member_intake", intake(workplace_in_list="yes",
                                                        workplace=str(wp_id),
                                                        workplace_new_name=None,
                                                        savings_group="SG01")).id
        other = add_submission(s, "member_intake", intake(
            collector="PE11", member_code="ZZZZZZ-9", name_latin="Dara Mey",
            family_name_km="មី", given_name_km="ដារា", phone="0881112222",
            workplace_in_list="no", workplace_new_name=None),
            by=collector(s, "PE11", communes="180207")).id
        visit_sid = add_submission(s, "workplace_visit", visit(wp_id, u18_suspected="yes",
                                                               n_u18="1"),
                                   entity=entity(wp_id, 1)).id
    for x in (sid, other, visit_sid):
        assert process_submission(db, x).ok
    return {"wp": wp_id, "far": far_id}


def _pe07(s) -> Collector:
    return s.scalar(select(Collector).where(Collector.name == "PE07"))


def test_members_csv__codes_only_for_own_area(db: Database, filled: dict[str, uuid.UUID]) -> None:
    with db.sessionmaker() as s:
        content = build_list(s, _pe07(s), "members.csv")
        member = s.scalar(select(Member).where(Member.member_code == "7K3Q9M-X"))
    text = content.decode()
    assert text.splitlines()[0] == ",".join(MEMBERS_HEADER)
    (row,) = _rows(content)
    assert row == {"name": str(member.id), "label": "7K3Q9M-X", "__version": "1",
                   "member_code": "7K3Q9M-X", "pe_code": "PE07", "savings_group": "SG01"}
    for secret in ("Chan", "Sokha", "សុខា", "ចាន់", "097", "970001234", "Dara", "ZZZZZZ"):
        assert secret not in text


def test_workplaces_csv__names_and_properties_never_risk(
    db: Database, filled: dict[str, uuid.UUID]
) -> None:
    with db.sessionmaker() as s:
        content = build_list(s, _pe07(s), "workplaces.csv")
    assert content.decode().splitlines()[0] == ",".join(WORKPLACES_HEADER)
    (row,) = _rows(content)  # the other commune's bar is not sent
    assert row["name"] == str(filled["wp"]) and row["label"] == "ហេបភី / Happy KTV"
    assert row["__version"] == "2" and row["last_visit_date"] == "2026-11-10"
    assert (row["village"], row["type"], row["workers_est"]) == ("18010101", "karaoke", "12")
    text = content.decode().lower()
    for secret in ("red", "risk", "u18", "alert", "urgent"):
        assert secret not in text


def _list_media(s: Session, filename: str) -> FormMedia:
    return s.scalars(select(FormMedia).where(FormMedia.filename == filename)).first()


def test_list_hash__changes_when_the_cases_change_and_not_otherwise(
    db: Database, filled: dict[str, uuid.UUID]
) -> None:
    with db.sessionmaker() as s:
        media = _list_media(s, "workplaces.csv")
        first = media_hash(s, _pe07(s), media)
        first_bytes = build_list(s, _pe07(s), "workplaces.csv")
        assert media_hash(s, _pe07(s), media) == first
        # Another list, or another collector's area, has another hash.
        assert media_hash(s, _pe07(s), _list_media(s, "members.csv")) != first
    with db.transaction() as s:
        sid = add_submission(s, "workplace_visit", visit(filled["wp"], visit_date="2026-11-15"),
                             entity=entity(filled["wp"], 2)).id
    with db.sessionmaker() as s:
        # Storing a submission changes no list; merging it does.
        assert media_hash(s, _pe07(s), _list_media(s, "workplaces.csv")) == first
    assert process_submission(db, sid).ok
    with db.sessionmaker() as s:
        assert build_list(s, _pe07(s), "workplaces.csv") != first_bytes
        assert media_hash(s, _pe07(s), _list_media(s, "workplaces.csv")) != first


def test_integrity__merged_member_reported_deleted(
    db: Database, filled: dict[str, uuid.UUID]
) -> None:
    with db.sessionmaker() as s:
        a = s.scalar(select(Member.id).where(Member.member_code == "7K3Q9M-X"))
        b = s.scalar(select(Member.id).where(Member.member_code == "ZZZZZZ-9"))
    with db.transaction() as s:
        review.merge_members(s, (a, b), "staff:case1")
    unknown = str(uuid.uuid4())
    with db.sessionmaker() as s:
        assert entity_integrity(s, "members", [str(a), str(b), unknown, "not-a-uuid"]) == {
            str(a): False, str(b): True, unknown: False, "not-a-uuid": False}
        assert entity_integrity(s, "workplaces", [str(filled["wp"])]) == {str(filled["wp"]): False}
