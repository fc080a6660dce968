# ruff: noqa: F811  (fixtures imported from tests.support are parameters)
"""Possible duplicate visits when the workplace was typed, not chosen from the list (issue 9
item 6): a visit sent twice under two instanceIDs registers two workplaces; the two visits are
still paired and counted once until staff decide. And when staff merge two workplaces, the
merged-away workplace's visits are checked against the survivor's (same collector, same day).
Everything goes in through OpenRosa; staff merge through the JSON API.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from server.db.models import (
    CandidatePair,
    DuplicateVisitStatus,
    EntityType,
    MonitoringVisit,
    Submission,
    Workplace,
)
from server.db.session import Database
from server.sync import linkage, review
from tests.integration.test_field_duplicates import VISITS, _form_xml, pairs, report, send, users
from tests.integration.test_merge_visit import visit
from tests.integration.test_reports_indicators import value
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.staff_api import StaffClient, make_workplace
from tests.support.submissions import build_xml

pytestmark = pytest.mark.usefixtures("published_forms")
__all__ = ["users"]  # fixtures


@pytest.fixture
def wp(db: Database) -> uuid.UUID:
    """A workplace in the list, with its matching keys (as every listed workplace has)."""
    with db.transaction() as s:
        workplace = make_workplace(s, "W1", "Moonlight KTV", commune_code="180101")
        linkage.refresh_workplace_keys(s, workplace)
        return workplace.id


def send_typed(db: Database, phone: CollectClient, name: str = "Golden Star KTV", *,
               deprecated_id: str | None = None, **over: Any) -> str:
    """A visit to a workplace not in the list (the collector types it), through OpenRosa."""
    answers = {"workplace_in_list": "no", "wp_new_name_latin": name, "wp_new_type": "karaoke",
               "wp_commune": "180101", "wp_village": "18010101", "wp_landmark": "near the market"}
    iid = f"uuid:{uuid.uuid4()}"
    xml = build_xml(_form_xml(db), visit(None, **(answers | over)), instance_id=iid,
                    deprecated_id=deprecated_id)
    (response,) = phone.submit(xml)
    assert response.status_code == 201, response.data
    return iid


def staff_merge(case: StaffClient, wp_pair_id: uuid.UUID) -> dict[str, Any]:
    """Staff merge a workplace pair from the duplicates screen's API."""
    url = f"/api/v1/duplicates/{wp_pair_id}"
    r = case.post(f"{url}/merge", json={}, headers={"If-Match": case.get(url).headers["ETag"]})
    assert r.status_code == 200, r.data
    return r.get_json()


def visit_of(db: Database, iid: str) -> MonitoringVisit:
    with db.sessionmaker() as s:
        sub = s.scalar(select(Submission).where(Submission.root_instance_id == iid))
        assert sub is not None and sub.merge_error is None
        return s.scalar(select(MonitoringVisit).where(MonitoringVisit.submission_id == sub.id))


def workplaces(db: Database) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(Workplace)
                        .where(Workplace.merged_into_workplace_id.is_(None))) or 0


def test_typed_workplace_sent_twice__both_kept_paired_and_counted_once(db: Database,
                                                                        pe: CollectClient) -> None:
    first = send_typed(db, pe, n_leaflets="10", activities="leaflets")
    # Sent again; typed a little differently ("Karaoke" is a generic word, like "KTV").
    second = send_typed(db, pe, "golden  star karaoke", n_leaflets="10", activities="leaflets")
    v1, v2 = visit_of(db, first), visit_of(db, second)
    assert v1.workplace_id != v2.workplace_id and workplaces(db) == 2  # nothing lost
    (pair,) = pairs(db)
    assert (pair.first_visit_id, pair.second_visit_id) == (v1.id, v2.id)
    assert pair.status == DuplicateVisitStatus.PENDING and pair.second_submission_id == v2.submission_id
    r = report(db)
    assert value(r, 14, VISITS) == 1
    assert value(r, 14, "possible duplicate visits pending (counted once)") == 1
    assert value(r, 18, "leaflets handed out on visits (n_leaflets)") == 10
    # The two workplaces are put in front of staff too, as a workplace pair.
    with db.sessionmaker() as s:
        (wp_pair,) = s.scalars(select(CandidatePair).where(CandidatePair.entity_type == EntityType.WORKPLACE))
        assert {wp_pair.a_id, wp_pair.b_id} == {v1.workplace_id, v2.workplace_id}


def test_typed_workplace__other_name_place_day_or_collector__not_paired(db: Database,
                                                                        pe: CollectClient) -> None:
    send_typed(db, pe)
    send_typed(db, pe, "Silver Moon KTV")
    send_typed(db, pe, wp_village="18010102")
    send_typed(db, pe, visit_date="2026-11-11")
    send_typed(db, pe, collector="PE08")
    assert pairs(db) == []
    assert value(report(db), 14, VISITS) == 5


def test_typed_workplace__no_village_given_still_paired(db: Database, pe: CollectClient) -> None:
    send_typed(db, pe)
    send_typed(db, pe, wp_village=None)
    assert len(pairs(db)) == 1
    assert value(report(db), 14, VISITS) == 1


def test_typed_pair__survives_an_edit_and_is_withdrawn_when_the_day_changes(db: Database,
                                                                             pe: CollectClient) -> None:
    send_typed(db, pe)
    second = send_typed(db, pe)
    edited = send_typed(db, pe, deprecated_id=second, n_met="7")  # same visit, corrected
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.PENDING and workplaces(db) == 2
    assert pair.row_version == 1  # untouched: a staff page open on it stays valid
    assert value(report(db), 14, VISITS) == 1
    send_typed(db, pe, deprecated_id=edited, visit_date="2026-11-12")
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.WITHDRAWN
    assert value(report(db), 14, VISITS) == 2


def test_typed_and_listed__paired_only_once_staff_merge_the_workplaces__unmerge_takes_it_back(
    db: Database, pe: CollectClient, wp: uuid.UUID, users: dict[str, StaffClient],
) -> None:
    listed = send(db, pe, wp)  # "Moonlight KTV", chosen from the list
    typed = send_typed(db, pe, "Moonlight KTV")  # the same place, not found in the list: typed
    assert pairs(db) == [] and value(report(db), 14, VISITS) == 2
    v_listed, v_typed = visit_of(db, listed), visit_of(db, typed)
    with db.sessionmaker() as s:
        (wp_pair,) = s.scalars(select(CandidatePair).where(CandidatePair.entity_type == EntityType.WORKPLACE))
    case = users["case"]
    event = staff_merge(case, wp_pair.id)["merge_event"]
    assert event["survivor_id"] == str(wp)  # the listed one survives
    (pair,) = pairs(db)
    assert (pair.first_visit_id, pair.second_visit_id) == (v_listed.id, v_typed.id)
    assert pair.status == DuplicateVisitStatus.PENDING and pair.workplace_id == wp
    assert value(report(db), 14, VISITS) == 1
    assert case.get("/api/v1/workqueue").json["visit_duplicates_pending"] == 1
    with db.transaction() as s:
        review.unmerge(s, uuid.UUID(event["id"]), "cw1")
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.WITHDRAWN
    assert value(report(db), 14, VISITS) == 2


def test_staff_merge__other_collector_or_day_not_paired_and_decided_pairs_kept(
    db: Database, pe: CollectClient, wp: uuid.UUID, users: dict[str, StaffClient],
) -> None:
    send(db, pe, wp)
    send(db, pe, wp)  # a listed pair, decided below as two visits
    send_typed(db, pe, "Moonlight KTV", collector="PE08")
    send_typed(db, pe, "Moonlight KTV", visit_date="2026-11-11")
    case = users["case"]
    (item,) = case.get("/api/v1/visit-duplicates").json
    assert case.post(f"/api/v1/visit-duplicates/{item['id']}/different",
                     headers={"If-Match": item["etag"]}).status_code == 200
    with db.sessionmaker() as s:
        wp_pairs = s.scalars(select(CandidatePair).where(CandidatePair.entity_type == EntityType.WORKPLACE)
                             .where((CandidatePair.a_id == wp) | (CandidatePair.b_id == wp))).all()
    assert wp_pairs
    for p in wp_pairs:
        staff_merge(case, p.id)
    (pair,) = pairs(db)  # nothing new; the decision stands
    assert pair.status == DuplicateVisitStatus.DIFFERENT
    assert value(report(db), 14, VISITS) == 4


def test_typed_twins_merged_by_staff__still_one_pair(db: Database, pe: CollectClient,
                                                     users: dict[str, StaffClient]) -> None:
    send_typed(db, pe)
    send_typed(db, pe)
    with db.sessionmaker() as s:
        (wp_pair,) = s.scalars(select(CandidatePair).where(CandidatePair.entity_type == EntityType.WORKPLACE))
    case = users["case"]
    staff_merge(case, wp_pair.id)
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.PENDING
    assert value(report(db), 14, VISITS) == 1
    assert workplaces(db) == 1


def test_typed_twins_decided_different_then_merged__decision_stands(db: Database, pe: CollectClient,
                                                                     users: dict[str, StaffClient]) -> None:
    send_typed(db, pe)
    send_typed(db, pe)
    case = users["case"]
    (item,) = case.get("/api/v1/visit-duplicates").json
    assert case.post(f"/api/v1/visit-duplicates/{item['id']}/different",
                     headers={"If-Match": item["etag"]}).status_code == 200
    with db.sessionmaker() as s:
        (wp_pair,) = s.scalars(select(CandidatePair).where(CandidatePair.entity_type == EntityType.WORKPLACE))
    staff_merge(case, wp_pair.id)
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.DIFFERENT
    assert value(report(db), 14, VISITS) == 2
