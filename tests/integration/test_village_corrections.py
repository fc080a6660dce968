# ruff: noqa: F811  (fixtures imported from tests.support are parameters)
"""Village reports (issue 9 items 6 and 7), sent through OpenRosa by the village phone:

- figures and referrals are dated by the month the report covers, not the day it arrived;
- an edit (deprecatedID) replaces the figures in place, the old values kept in the history;
- a second report for the same village and month is kept, flagged (correction pending), not
  counted, and opens no second referral for the same child or event;
- staff accept it (it replaces the figures; the earlier report is kept, superseded) or reject
  it, through the JSON API or the web page, audited; no referral is ever closed by it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.db.models import (
    AuditEntry,
    CaseChange,
    EntityType,
    Form,
    Referral,
    ReferralSource,
    ReferralStatus,
    StaffUser,
    VillageReport,
    VillageReportStatus,
)
from server.db.session import Database
from server.reports.report import build_report
from tests.integration.test_merge_village import report as answers
from tests.integration.test_reports_indicators import value
from tests.support import staff_api
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, village  # noqa: F401
from tests.support.staff_api import StaffClient
from tests.support.submissions import build_xml
from tests.support.web import WebClient, make_staff_account

pytestmark = pytest.mark.usefixtures("published_forms")
users = staff_api.staff

CHILD = {"concern_type": "child_in_venue", "age_group": "15_17", "sex": "female",
         "where": "venue_in_village", "urgency": "now"}
MISSING = {"concern_type": "missing_person", "age_group": "18_24", "sex": "female",
           "where": "abroad", "urgency": "now"}
LEFT = "women 15-24 who left"
PENDING = "village-report corrections pending (not counted)"


def _form_xml(db: Database) -> bytes:
    with db.sessionmaker() as s:
        return s.scalar(select(Form).where(Form.xml_form_id == "village_data")).versions[-1].xml


def send(db: Database, phone: CollectClient, deprecated_id: str | None = None, **over: Any) -> str:
    iid = f"uuid:{uuid.uuid4()}"
    xml = build_xml(_form_xml(db), answers(**over), instance_id=iid, deprecated_id=deprecated_id)
    (response,) = phone.submit(xml)
    assert response.status_code == 201, response.data
    return iid


def with_concerns(*rows: dict[str, str], **over: Any) -> dict[str, Any]:
    return {"any_concern": "yes", "n_concerns": str(len(rows)), "case_alert": list(rows), **over}


def report_for(db: Database, period: str = "2026-11") -> dict[str, Any]:
    with db.sessionmaker() as s:
        return build_report(s, period)


def reports(db: Database) -> list[VillageReport]:
    with db.sessionmaker() as s:
        return list(s.scalars(select(VillageReport).order_by(VillageReport.created_at)))


def referral_count(db: Database) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(Referral)) or 0


def test_report_sent_late__figures_and_referrals_in_the_month_it_covers(db: Database,
                                                                          village: CollectClient) -> None:
    # Sent now (December 2026 or later) about October: counted in October, not in the month it arrived.
    send(db, village, period="2026-10-01", period_ym="2026-10", n_left_women_15_24="3",
         **with_concerns(MISSING))
    october, november = report_for(db, "2026-10"), report_for(db, "2026-11")
    assert value(october, 17, "villages reporting", "month:2026-10") == 1
    assert value(october, 17, LEFT) == 3 and value(november, 17, LEFT) == 0
    assert value(october, 12, "referrals") == 1 and value(november, 12, "referrals") == 0
    with db.sessionmaker() as s:
        assert str(s.scalar(select(Referral.event_date))) == "2026-10-01"


def test_edit_with_deprecated_id__replaces_figures_history_kept_no_second_referral(
        db: Database, village: CollectClient) -> None:
    first = send(db, village, n_left_women_15_24="2", n_left_under18="1", **with_concerns(CHILD))
    assert referral_count(db) == 2  # U18-V for the village, U18 for the child
    send(db, village, deprecated_id=first, n_left="9", n_left_women_15_24="5", n_left_under18="1",
         **with_concerns(CHILD))
    (only,) = reports(db)
    assert only.status == VillageReportStatus.ACCEPTED and only.n_left_women_15_24 == 5
    assert referral_count(db) == 2
    with db.sessionmaker() as s:
        change = s.scalar(select(CaseChange).where(CaseChange.entity_type == EntityType.VILLAGE_REPORT,
                                                   CaseChange.field == "n_left_women_15_24",
                                                   CaseChange.old_value.is_not(None)))
        assert (change.old_value, change.new_value) == ("2", "5")
    assert value(report_for(db), 17, LEFT) == 5


def test_edit_that_reorders_the_concerns__opens_no_second_referral(db: Database,
                                                                   village: CollectClient) -> None:
    first = send(db, village, **with_concerns(CHILD, MISSING))
    send(db, village, deprecated_id=first, **with_concerns(MISSING, CHILD))
    assert referral_count(db) == 2
    with db.sessionmaker() as s:
        assert all(r.status == ReferralStatus.NEW for r in s.scalars(select(Referral)))


def test_second_report_same_month__flagged_not_counted_no_second_referral(
        db: Database, village: CollectClient, users: dict[str, StaffClient]) -> None:
    send(db, village, n_left_women_15_24="2", n_left_under18="1", **with_concerns(CHILD, MISSING))
    assert referral_count(db) == 3
    # Sent again under a new instanceID, the concerns in another order, one figure changed.
    send(db, village, n_left_women_15_24="6", n_left_under18="1", **with_concerns(MISSING, CHILD))
    first, second = reports(db)
    assert first.status == VillageReportStatus.ACCEPTED
    assert second.status == VillageReportStatus.CORRECTION_PENDING
    assert second.correction_of_id == first.id and second.n_left_women_15_24 == 6
    assert referral_count(db) == 3  # the same child, the same missing woman, the same village
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(ReferralSource)) == 6  # each source recorded
    r = report_for(db)
    assert value(r, 17, LEFT) == 2 and value(r, 17, "village reports") == 1
    assert value(r, 17, PENDING) == 1
    assert users["case"].get("/api/v1/workqueue").json["village_corrections_pending"] == 1


def test_second_report_with_a_new_concern__opens_only_that_one(db: Database, village: CollectClient) -> None:
    send(db, village, **with_concerns(CHILD))
    send(db, village, **with_concerns(CHILD, MISSING))
    assert referral_count(db) == 2


def test_second_report_about_a_closed_case__recorded_on_it_not_reopened_not_duplicated(
        db: Database, village: CollectClient) -> None:
    send(db, village, **with_concerns(MISSING))
    with db.transaction() as s:
        s.scalar(select(Referral)).status = ReferralStatus.CLOSED
    send(db, village, **with_concerns(MISSING))
    with db.sessionmaker() as s:
        (referral,) = s.scalars(select(Referral)).all()
        assert referral.status == ReferralStatus.CLOSED
        assert s.scalar(select(func.count()).select_from(ReferralSource)) == 2


def _pending(users: dict[str, StaffClient]) -> dict[str, Any]:
    (item,) = users["case"].get("/api/v1/village-reports").json
    return item


def test_api_accept__correction_replaces_figures_earlier_kept_audited(
        db: Database, village: CollectClient, users: dict[str, StaffClient]) -> None:
    send(db, village, n_left_women_15_24="2", **with_concerns(CHILD, MISSING))
    send(db, village, n_left_women_15_24="6", **with_concerns(MISSING))  # the child was a mistake
    case = users["case"]
    item = _pending(users)
    assert item["corrects"]["n_left_women_15_24"] == 2 and item["n_left_women_15_24"] == 6
    url = f"/api/v1/village-reports/{item['id']}"
    assert case.post(f"{url}/accept").status_code == 428
    assert case.post(f"{url}/accept", headers={"If-Match": '"vr-old"'}).status_code == 412
    assert users["me"].post(f"{url}/accept", headers={"If-Match": item["etag"]}).status_code == 403
    r = case.post(f"{url}/accept", headers={"If-Match": item["etag"]}, json={"note": "chief corrected"})
    assert r.status_code == 200 and r.json["status"] == "accepted"
    assert [h["status"] for h in r.json["history"]] == ["superseded", "accepted"]
    first, second = reports(db)
    assert first.status == VillageReportStatus.SUPERSEDED and first.n_left_women_15_24 == 2  # kept
    assert second.status == VillageReportStatus.ACCEPTED
    rep = report_for(db)
    assert value(rep, 17, LEFT) == 6 and value(rep, 17, "village reports") == 1
    assert value(rep, 17, PENDING) == 0
    with db.sessionmaker() as s:
        child = s.scalar(select(Referral).where(Referral.category == "child_protection"))
        missing = s.scalar(select(Referral).where(Referral.category == "trafficking"))
        # The child's referral lost its only source: flagged for staff, never closed.
        assert child.source_edited is True and child.status == ReferralStatus.NEW
        assert missing.source_edited is False
        audit = s.scalars(select(AuditEntry)
                          .where(AuditEntry.action == "village_report.accept_correction")).all()
        assert {a.object_id for a in audit} == {str(first.id), str(second.id)}
        assert {a.reason for a in audit} == {"chief corrected"}
    assert case.post(f"{url}/reject", headers={"If-Match": r.headers["ETag"]}).status_code == 409
    assert referral_count(db) == 2


def test_api_reject__earlier_report_still_counts(db: Database, village: CollectClient,
                                                 users: dict[str, StaffClient]) -> None:
    send(db, village, n_left_women_15_24="2", **with_concerns(CHILD))
    send(db, village, n_left_women_15_24="6", **with_concerns(CHILD, MISSING))
    item = _pending(users)
    r = users["case"].post(f"/api/v1/village-reports/{item['id']}/reject", headers={"If-Match": item["etag"]})
    assert r.status_code == 200 and r.json["status"] == "rejected"
    first, second = reports(db)
    assert (first.status, second.status) == (VillageReportStatus.ACCEPTED, VillageReportStatus.REJECTED)
    assert value(report_for(db), 17, LEFT) == 2
    with db.sessionmaker() as s:
        child = s.scalar(select(Referral).where(Referral.category == "child_protection"))
        missing = s.scalar(select(Referral).where(Referral.category == "trafficking"))
        assert child.source_edited is False  # the counted report still raises it
        assert missing.source_edited is True and missing.status == ReferralStatus.NEW  # staff decide
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "village_report.reject_correction")) == 1


def test_third_report__compared_with_the_accepted_correction(db: Database, village: CollectClient,
                                                              users: dict[str, StaffClient]) -> None:
    send(db, village, n_left_women_15_24="2")
    send(db, village, n_left_women_15_24="6")
    send(db, village, n_left_women_15_24="7")
    items = users["case"].get("/api/v1/village-reports").json
    assert len(items) == 2
    r = users["case"].post(f"/api/v1/village-reports/{items[0]['id']}/accept",
                           headers={"If-Match": items[0]["etag"]})
    assert r.status_code == 200
    (left,) = users["case"].get("/api/v1/village-reports").json
    assert left["corrects"]["id"] == items[0]["id"]
    # The page read before the acceptance is stale now.
    stale = users["case"].post(f"/api/v1/village-reports/{items[1]['id']}/accept",
                               headers={"If-Match": items[1]["etag"]})
    assert stale.status_code == 412


@pytest.fixture
def web(client: FlaskClient) -> WebClient:
    return WebClient(client)


def test_web__work_queue_list_and_accept(db: Database, village: CollectClient, web: WebClient) -> None:
    send(db, village, n_left_women_15_24="2")
    send(db, village, n_left_women_15_24="6")
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    home = web.get("/").get_data(as_text=True)
    assert "/village-reports" in home
    first, second = reports(db)
    listing = web.get("/village-reports").get_data(as_text=True)
    assert f"/village-reports/{second.id}" in listing and "18010101" in listing and "2026-11" in listing
    url = f"/village-reports/{second.id}"
    page = web.get(url).get_data(as_text=True)
    assert "ទទួលយកការកែតម្រូវ" in page  # Khmer by default
    with db.transaction() as s:
        s.scalar(select(StaffUser).where(StaffUser.name == "cw1")).language = "en"
    page = web.get(url).get_data(as_text=True)
    assert "Accept the correction" in page and "Of them, women and girls aged 15-24" in page
    etag = page.split('name="etag" value="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
    assert web.post(f"{url}/accept", {"etag": etag}, from_page=url).status_code == 302
    first, second = reports(db)
    assert (first.status, second.status) == (VillageReportStatus.SUPERSEDED, VillageReportStatus.ACCEPTED)
    # The stale page's other button is refused and changes nothing.
    r = web.post(f"{url}/reject", {"etag": etag}, from_page=url, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "not waiting for a decision" in text or "changed since" in text
    assert reports(db)[1].status == VillageReportStatus.ACCEPTED
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "village_report.accept_correction")) == 2
