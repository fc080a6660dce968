# ruff: noqa: F811  (fixtures imported from tests.support are parameters)
"""Possible duplicate visits (issue 9 item 6, domain.md 4.1): a visit sent twice under two
instanceIDs, through OpenRosa, is kept, flagged, put in front of staff and counted once until
staff decide; "different visits" counts both. The JSON API and the web page decide alike, audited.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.db.models import (
    AuditEntry,
    DuplicateVisitStatus,
    Form,
    MonitoringVisit,
    PossibleDuplicateVisit,
    Referral,
    StaffUser,
)
from server.db.session import Database
from server.reports.report import build_report
from tests.integration.test_merge_visit import visit
from tests.integration.test_reports_exports import read_csv
from tests.integration.test_reports_indicators import value
from tests.support import staff_api
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.staff_api import StaffClient, make_workplace
from tests.support.submissions import build_xml
from tests.support.web import WebClient, make_staff_account

pytestmark = pytest.mark.usefixtures("published_forms")
users = staff_api.staff
VISITS = "visits"


def _form_xml(db: Database) -> bytes:
    with db.sessionmaker() as s:
        return s.scalar(select(Form).where(Form.xml_form_id == "workplace_visit")).versions[-1].xml


@pytest.fixture
def wp(db: Database) -> uuid.UUID:
    with db.transaction() as s:
        return make_workplace(s, "W1", "Moonlight KTV", commune_code="180101").id


def send(db: Database, phone: CollectClient, wp: uuid.UUID, base: int = 1, instance_id: str | None = None,
         deprecated_id: str | None = None, **over: Any) -> str:
    """One visit through OpenRosa, as Collect sends it; returns its instanceID."""
    iid = instance_id or f"uuid:{uuid.uuid4()}"
    ent = {"id": str(wp), "baseVersion": str(base), "trunkVersion": str(base), "branchId": ""}
    xml = build_xml(_form_xml(db), visit(wp, **over), instance_id=iid, deprecated_id=deprecated_id,
                    entity=ent)
    (response,) = phone.submit(xml)
    assert response.status_code == 201, response.data
    return iid


def report(db: Database) -> dict[str, Any]:
    with db.sessionmaker() as s:
        return build_report(s, "2026-11")


def pairs(db: Database) -> list[PossibleDuplicateVisit]:
    with db.sessionmaker() as s:
        return list(s.scalars(select(PossibleDuplicateVisit)))


def test_visit_sent_twice__kept_flagged_and_counted_once(db: Database, pe: CollectClient, wp: uuid.UUID,
                                                          users: dict[str, StaffClient]) -> None:
    send(db, pe, wp, n_leaflets="10", activities="leaflets")
    send(db, pe, wp, n_leaflets="10", activities="leaflets")  # the phone "lost" it: filled again
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(MonitoringVisit)) == 2  # both kept
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.PENDING
    r = report(db)
    assert value(r, 14, VISITS) == 1
    assert value(r, 14, "possible duplicate visits pending (counted once)") == 1
    assert value(r, 18, "leaflets handed out on visits (n_leaflets)") == 10
    queue = users["case"].get("/api/v1/workqueue").json
    assert queue["visit_duplicates_pending"] == 1
    # The case export keeps both rows and says which one is not counted.
    rows = read_csv(users["me"].get("/api/v1/exports/cases/visits").data)
    assert sorted(r["counted"] for r in rows) == ["no", "yes"]


def test_different_workplace_day_or_collector__not_a_duplicate(db: Database, pe: CollectClient,
                                                                  wp: uuid.UUID) -> None:
    with db.transaction() as s:
        other = make_workplace(s, "W2", "Star KTV", commune_code="180101").id
    send(db, pe, wp)
    send(db, pe, other)
    send(db, pe, wp, visit_date="2026-11-11")
    send(db, pe, wp, collector="PE08")
    assert pairs(db) == []
    assert value(report(db), 14, VISITS) == 4


def test_edit_with_deprecated_id__not_a_duplicate(db: Database, pe: CollectClient, wp: uuid.UUID) -> None:
    first = send(db, pe, wp)
    send(db, pe, wp, deprecated_id=first, n_met="7")
    assert pairs(db) == []
    assert value(report(db), 14, VISITS) == 1


def test_edit_that_changes_the_day__withdraws_the_pair(db: Database, pe: CollectClient,
                                                       wp: uuid.UUID) -> None:
    send(db, pe, wp)
    second = send(db, pe, wp)
    assert value(report(db), 14, VISITS) == 1
    send(db, pe, wp, deprecated_id=second, visit_date="2026-11-12")
    (pair,) = pairs(db)
    assert pair.status == DuplicateVisitStatus.WITHDRAWN
    assert value(report(db), 14, VISITS) == 2


def test_refused_visit_sent_twice__not_access_refused_twice(db: Database, pe: CollectClient,
                                                             wp: uuid.UUID) -> None:
    send(db, pe, wp, access="refused")
    send(db, pe, wp, access="refused")
    with db.sessionmaker() as s:
        triggers = [v.triggers for v in s.scalars(select(MonitoringVisit))]
    assert all("ACC" not in t for t in triggers)


def test_alert_sent_twice__one_referral(db: Database, pe: CollectClient, wp: uuid.UUID) -> None:
    send(db, pe, wp, u18_suspected="yes", n_u18="1")
    send(db, pe, wp, u18_suspected="yes", n_u18="1")
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Referral)) == 1


def test_api__different_counts_both_and_is_audited(db: Database, pe: CollectClient, wp: uuid.UUID,
                                                    users: dict[str, StaffClient]) -> None:
    send(db, pe, wp)
    send(db, pe, wp)
    case = users["case"]
    listed = case.get("/api/v1/visit-duplicates")
    assert listed.status_code == 200
    (item,) = listed.json
    assert item["counted_once"] is True and item["first"]["workplace_code"] == "W1"
    assert item["first"]["pe_code"] == "PE07" and item["second"]["values"]["access"] == "inside_freely"
    url = f"/api/v1/visit-duplicates/{item['id']}"
    etag = case.get(url).headers["ETag"]
    assert case.post(f"{url}/different").status_code == 428
    assert case.post(f"{url}/different", headers={"If-Match": '"dv-stale"'}).status_code == 412
    assert value(report(db), 14, VISITS) == 1  # refusals changed nothing
    decided = case.post(f"{url}/different", headers={"If-Match": etag}, json={"note": "two shifts"})
    assert decided.status_code == 200 and decided.json["status"] == "different"
    assert decided.json["counted_once"] is False
    assert value(report(db), 14, VISITS) == 2
    again = case.post(f"{url}/same", headers={"If-Match": decided.headers["ETag"]})
    assert again.status_code == 409
    with db.sessionmaker() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action.like("visit_duplicate.%"))).all()
        assert [(a.action, a.object_id, a.reason) for a in audit] == [
            ("visit_duplicate.different", item["id"], "two shifts")]
    assert case.get("/api/v1/workqueue").json["visit_duplicates_pending"] == 0


def test_api__same_keeps_it_counted_once(db: Database, pe: CollectClient, wp: uuid.UUID,
                                         users: dict[str, StaffClient]) -> None:
    send(db, pe, wp)
    send(db, pe, wp)
    case = users["case"]
    (item,) = case.get("/api/v1/visit-duplicates").json
    r = case.post(f"/api/v1/visit-duplicates/{item['id']}/same", headers={"If-Match": item["etag"]})
    assert r.status_code == 200 and r.json["status"] == "same"
    assert value(report(db), 14, VISITS) == 1
    assert value(report(db), 14, "possible duplicate visits pending (counted once)") == 0
    assert case.get("/api/v1/visit-duplicates").json == []
    assert len(case.get("/api/v1/visit-duplicates?status=same").json) == 1


def test_api__roles_and_bad_ids(db: Database, pe: CollectClient, wp: uuid.UUID,
                                users: dict[str, StaffClient]) -> None:
    send(db, pe, wp)
    send(db, pe, wp)
    assert users["me"].get("/api/v1/visit-duplicates").status_code == 403
    assert users["admin"].get("/api/v1/visit-duplicates").status_code == 403
    assert users["case"].get("/api/v1/visit-duplicates/not-a-uuid").status_code == 404
    assert users["case"].get(f"/api/v1/visit-duplicates/{uuid.uuid4()}").status_code == 404
    assert users["case"].get("/api/v1/visit-duplicates?status=bogus").status_code == 422


@pytest.fixture
def web(client: FlaskClient) -> WebClient:
    return WebClient(client)


def test_web__work_queue_links_the_list_and_staff_decide_in_khmer(db: Database, pe: CollectClient,
                                                                    wp: uuid.UUID, web: WebClient) -> None:
    send(db, pe, wp)
    send(db, pe, wp)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    home = web.get("/").get_data(as_text=True)  # Khmer, the default
    assert "/visit-duplicates" in home and "ការចុះដែលអាចស្ទួន ត្រូវសម្រេច" in home
    listing = web.get("/visit-duplicates").get_data(as_text=True)
    (pair,) = pairs(db)
    assert f"/visit-duplicates/{pair.id}" in listing and "W1" in listing
    detail_url = f"/visit-duplicates/{pair.id}"
    assert "ការចុះដដែល៖ រាប់តែម្ដង" in web.get(detail_url).get_data(as_text=True)
    with db.transaction() as s:
        s.scalar(select(StaffUser).where(StaffUser.name == "cw1")).language = "en"
    page = web.get(detail_url).get_data(as_text=True)
    assert "Same visit: count once" in page and "Two different visits: count both" in page
    etag = page.split('name="etag" value="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
    r = web.post(f"{detail_url}/same", {"etag": etag}, from_page=detail_url)
    assert r.status_code == 302
    assert pairs(db)[0].status == DuplicateVisitStatus.SAME
    # A second decision from the stale page is refused and changes nothing.
    r = web.post(f"{detail_url}/different", {"etag": etag}, from_page=detail_url, follow_redirects=True)
    assert "already decided" in r.get_data(as_text=True) or "changed since" in r.get_data(as_text=True)
    assert pairs(db)[0].status == DuplicateVisitStatus.SAME
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "visit_duplicate.same")) == 1
