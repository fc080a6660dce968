"""Referral case management through the staff API: new -> acknowledged -> referred -> closed
with an outcome and provider, assignment, notes, sources, timing, role rules, audit, ETags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.casework import referrals
from server.db.models import AuditEntry, ReferralEvent
from server.db.models.cases import Referral, ReferralStatus
from server.db.session import Database
from tests.support.casework import submit, visit_answers, workplace
from tests.support.staff_api import StaffClient, make_referral, staff  # noqa: F401

pytestmark = pytest.mark.usefixtures("published_forms")


def forced_labour_case(db: Database) -> str:
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    submit(db, "workplace_visit", visit_answers(wp, fl_seen="violence"))
    with db.sessionmaker() as s:
        (ref,) = s.scalars(select(Referral)).all()
        assert (ref.category.value, ref.priority.value) == ("forced_labour", "urgent")
        assert ref.status.value == "new"
        return str(ref.id)


def act(client: StaffClient, rid: str, step: str, body: dict | None = None):
    etag = client.get(f"/api/v1/referrals/{rid}").headers["ETag"]
    return client.post(f"/api/v1/referrals/{rid}/{step}", json=body or {}, headers={"If-Match": etag})


def test_referral__acknowledge_assign_refer_close_with_outcome_and_provider_each_audited(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    rid = forced_labour_case(db)
    case = staff["case"]
    r = act(case, rid, "acknowledge", {"note": "called the PE"})
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert body["status"] == "acknowledged" and body["acknowledged_at"] and body["timing"]["overdue"] is False
    assert body["next_steps"] == ["referred", "closed"]
    r = act(case, rid, "assign", {"assignee": "test-case"})
    assert r.get_json()["assigned_to"] == "test-case"
    r = act(case, rid, "refer", {"referred_to": "labour_department"})
    assert (r.get_json()["status"], r.get_json()["referred_to"]) == ("referred", "labour_department")
    r = act(case, rid, "close", {"outcome": "service_received", "note": "inspection done"})
    body = r.get_json()
    assert (body["status"], body["outcome"], body["outcome_by"]) == ("closed", "service_received",
                                                                     "labour_department")
    assert [h["kind"] for h in body["history"]] == ["acknowledged", "assigned", "referred", "closed"]
    assert body["history"][0]["note"] == "called the PE" and body["history"][3]["actor"] == "test-case"
    assert [s["form"] for s in body["sources"]] == ["workplace_visit"]
    assert body["sources"][0]["reporter_code"] == "PE07" and body["pii_included"] is True
    with db.sessionmaker() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.object_id == rid))]
        ref = s.get(Referral, __import__("uuid").UUID(rid))
        assert ref.closed_at and ref.referred_at and ref.acknowledged_at
    for action in ("referral.acknowledged", "referral.assigned", "referral.referred", "referral.closed",
                   "referral.read", "referral.reporter.read"):
        assert action in actions, action


def test_referral__actions_need_a_fresh_etag_and_legal_steps(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    rid = forced_labour_case(db)
    case = staff["case"]
    stale = case.get(f"/api/v1/referrals/{rid}").headers["ETag"]
    assert case.post(f"/api/v1/referrals/{rid}/acknowledge", json={}).status_code == 428
    assert act(case, rid, "acknowledge").status_code == 200
    r = case.post(f"/api/v1/referrals/{rid}/refer", json={"referred_to": "legal_aid"},
                  headers={"If-Match": stale})
    assert r.status_code == 412
    r = act(case, rid, "acknowledge")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "referral.transition_invalid"
    r = act(case, rid, "refer", {"referred_to": "nowhere"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "referral.service_unknown"
    assert act(case, rid, "close", {"outcome": "won"}).status_code == 422
    r = act(case, rid, "close", {"outcome": "service_received"})  # no service to name
    assert r.status_code == 422
    r = act(case, rid, "close", {"outcome": "not_substantiated"})
    assert r.status_code == 200 and r.get_json()["outcome_by"] is None
    r = act(case, rid, "reopen", {"note": "new information"})
    assert (r.get_json()["status"], r.get_json()["outcome"]) == ("acknowledged", None)
    assert act(staff["me"], rid, "acknowledge").status_code == 403
    with db.sessionmaker() as s:
        assert s.get(Referral, __import__("uuid").UUID(rid)).status == ReferralStatus.ACKNOWLEDGED


def test_child_protection_referral__404_for_other_roles_and_assignable_only_to_that_role(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        rid = str(make_referral(s, "C-0001", "child_protection", priority="urgent").id)
    for role in ("case", "me", "admin"):
        assert staff[role].get(f"/api/v1/referrals/{rid}").status_code == 404
        r = staff[role].post(f"/api/v1/referrals/{rid}/notes", json={"text": "x"})
        assert r.status_code in (403, 404)
        assert staff[role].get("/api/v1/referrals").get_json() == []
        assert staff[role].get("/api/v1/workqueue").get_json()["urgent_referrals_new"] == 0
    cp = staff["child_protection"]
    assert cp.get("/api/v1/workqueue").get_json()["urgent_referrals_new"] == 1
    names = [u["name"] for u in cp.get(f"/api/v1/referrals/{rid}/assignees").get_json()]
    assert names == ["test-child_protection"]
    r = act(cp, rid, "assign", {"assignee": "test-case"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "referral.assignee_invalid"
    r = cp.post(f"/api/v1/referrals/{rid}/notes", json={"text": "girl is safe with her aunt"})
    assert r.status_code == 201 and r.get_json()["history"][-1]["note"] == "girl is safe with her aunt"


def test_urgent_referral__overdue_after_24_hours_until_acknowledged(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    old = datetime.now(UTC) - timedelta(hours=30)
    with db.transaction() as s:
        late = make_referral(s, "C-0001", "forced_labour", priority="urgent", created_at=old)
        fresh = make_referral(s, "C-0002", "forced_labour", priority="urgent")
        make_referral(s, "C-0003", "health", priority="normal", created_at=old)
        late_id = str(late.id)
        timing = referrals.referral_timing(late, datetime.now(UTC))
        assert timing.overdue and timing.target_hours == 24 and timing.age > timedelta(hours=29)
        assert not referrals.referral_timing(fresh, datetime.now(UTC)).overdue
    rows = staff["me"].get("/api/v1/referrals?overdue=true").get_json()
    assert [r["case_code"] for r in rows] == ["C-0001"] and rows[0]["timing"]["overdue"] is True
    listed = [r["case_code"] for r in staff["me"].get("/api/v1/referrals").get_json()]
    assert listed == ["C-0001", "C-0002", "C-0003"]  # urgent first, oldest first
    queue = staff["case"].get("/api/v1/workqueue").get_json()
    counts = (queue["urgent_referrals_new"], queue["urgent_referrals_overdue"], queue["referrals_open"])
    assert counts == (2, 1, 3)
    act(staff["case"], late_id, "acknowledge")
    assert staff["me"].get("/api/v1/referrals?overdue=true").get_json() == []
    body = staff["case"].get(f"/api/v1/referrals/{late_id}").get_json()
    assert body["timing"]["overdue"] is False and body["timing"]["hours_to_acknowledge"] >= 30


def test_me_role_sees_cases_without_notes_or_reporter(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    rid = forced_labour_case(db)
    staff["case"].post(f"/api/v1/referrals/{rid}/notes", json={"text": "Sokha said the boss hit her"})
    body = staff["me"].get(f"/api/v1/referrals/{rid}").get_json()
    assert body["pii_included"] is False and body["sources"][0]["reporter_code"] is None
    assert body["history"][0]["note"] is None
    assert "Sokha" not in staff["me"].get(f"/api/v1/referrals/{rid}").get_data(as_text=True)
    mine = staff["case"].get("/api/v1/referrals?assigned_to=me").get_json()
    assert mine == []
    with db.sessionmaker() as s:
        assert s.scalar(select(ReferralEvent.note)) == "Sokha said the boss hit her"
        assert all("Sokha" not in (a.reason or "") for a in s.scalars(select(AuditEntry)))


def test_referral_services_list(staff: dict[str, StaffClient]):  # noqa: F811
    codes = {s["code"]: s for s in staff["me"].get("/api/v1/referral-services").get_json()}
    assert {"health_centre", "legal_aid", "dosvy", "police_hotline"} <= set(codes)
    assert codes["health_centre"]["kind"] == "health" and codes["health_centre"]["name_km"]
