"""Workplace risk and a member's history (issue 9 item 8): her page lists every visit and
referral that names her, not only her intakes; her sector history is kept (a later intake
that says beer garden adds to it) and the indicator report uses the sector on the event's date.
(The risk that stays red while an urgent referral is open: test_merge_visit.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server.db.models import (
    Member,
    MemberSector,
    Referral,
    ReferralCategory,
    ReferralStatus,
)
from server.db.session import Database
from server.reports.report import build_report
from server.sync import cases
from tests.integration import test_merge_intake as mi
from tests.integration import test_merge_visit as mv
from tests.integration.test_reports_indicators import value
from tests.support.staff_api import staff  # noqa: F401
from tests.support.web import WebClient, make_staff_account

pytestmark = pytest.mark.usefixtures("published_forms")

OCTOBER = {"start": "2026-10-05T08:00:00.000+07:00", "today_calc": "2026-10-05"}
NOVEMBER = {"start": "2026-11-20T08:00:00.000+07:00", "today_calc": "2026-11-20"}


def _member(db: Database) -> Member:
    with db.sessionmaker() as s:
        (m,) = s.scalars(select(Member).where(Member.merged_into_member_id.is_(None))).all()
        s.expunge(m)
        return m


def test_member_page__lists_every_visit_and_referral_that_names_her(
    db: Database, client: FlaskClient, staff: dict,  # noqa: F811
) -> None:
    mi.submit(db, mi.intake(**OCTOBER))
    member = _member(db)
    with db.transaction() as s:
        wp = cases.create_workplace(s, name_latin="Golden Star KTV", type="karaoke",
                                    village_code="18010101", actor="test").id
    # A visit names her among the women affected and raises a forced-labour referral about
    # the place (not about her by id); another visit does not name her.
    mv.submit(db, mv.visit(wp, members_affected=str(member.id), locked_in="yes"), mv.entity(wp, 1))
    mv.submit(db, mv.visit(wp, visit_date="2026-11-12"), mv.entity(wp, 2))
    body = staff["case"].get(f"/api/v1/members/{member.id}").get_json()
    assert [v["visit_date"] for v in body["visits"]] == ["2026-11-10"]
    assert [r["category"] for r in body["referrals"]] == ["forced_labour"]
    # The `me` role gets neither her visits nor her sectors (sensitive).
    me = staff["me"].get(f"/api/v1/members/{member.id}").get_json()
    assert "visits" not in me and "sectors" not in me
    make_staff_account(db, "cw1", "case")
    web = WebClient(client)
    web.sign_in("cw1")
    page = web.get(f"/members/{member.id}").get_data(as_text=True)
    with db.sessionmaker() as s:
        code = s.scalar(select(Referral.case_code))
    assert code in page and "PE07" in page


def test_sector_history__later_intake_adds_to_it_and_report_uses_sector_at_the_time(
    db: Database, staff: dict,  # noqa: F811
) -> None:
    mi.submit(db, mi.intake(**OCTOBER, health_now="yes"))
    # The same card a month later: she now works in a beer garden.
    mi.submit(db, mi.intake(**NOVEMBER, sector="beer_garden", name_latin="Sokha Chan"))
    member = _member(db)
    assert member.sector == "beer_garden"
    with db.transaction() as s:
        history = [(h.sector, str(h.since)) for h in s.scalars(
            select(MemberSector).order_by(MemberSector.since))]
        assert history == [("karaoke", "2026-10-05"), ("beer_garden", "2026-11-20")]
        health = s.scalar(select(Referral).where(Referral.category == ReferralCategory.HEALTH))
        health.status, health.outcome = ReferralStatus.CLOSED, "service_received"
        health.closed_at = datetime(2026, 10, 20, tzinfo=UTC)
    with db.sessionmaker() as s:
        october = build_report(s, "2026-10")
    label = "women in prostitution who received a health service"
    # Counted in the group of her sector in October (karaoke), not today's beer garden.
    assert value(october, 6, label, "report_group:karaoke") == 1
    body = staff["case"].get(f"/api/v1/members/{member.id}").get_json()
    assert [s["sector"] for s in body["sectors"]] == ["karaoke", "beer_garden"]


def test_sector_history__late_intake_about_an_earlier_month_does_not_replace_the_current_sector(
    db: Database,
) -> None:
    mi.submit(db, mi.intake(**NOVEMBER, sector="beer_garden"))
    # Sent after the November one, about October: history, not her sector today.
    mi.submit(db, mi.intake(**OCTOBER, name_latin="Sokha Chan"))
    assert _member(db).sector == "beer_garden"
    with db.sessionmaker() as s:
        assert len(s.scalars(select(MemberSector)).all()) == 2


def test_visit_through_openrosa__workplace_outside_the_collectors_communes__kept_as_area_conflict(
    db: Database, client: FlaskClient, staff: dict,  # noqa: F811
) -> None:
    """Issue 9 item 10: the update is not applied, staff see it with its reason."""
    from server.accounts.collectors import create_collector
    from server.db.models import EntityConflict, Form, Workplace
    from tests.support.collect import CollectClient
    from tests.support.fixtures import Account
    from tests.support.submissions import build_xml

    with db.transaction() as s:
        far = cases.create_workplace(s, name_latin="Far Away KTV", village_code="18020101",
                                     actor="test").id
        collector, token = create_collector(s, "PE07", "peer_educator", "180101 180102")
        form_xml = s.scalar(select(Form).where(Form.xml_form_id == "workplace_visit")).versions[-1].xml
    pe = CollectClient(client, Account(collector.id, "PE07", "peer_educator", token).server_url)
    xml = build_xml(form_xml, mv.visit(far, n_workers_est="40"),
                    instance_id="uuid:5b0f8f0e-2c1d-4c53-9a53-1f6f5b2d9e10", entity=mv.entity(far, 1))
    (response,) = pe.submit(xml)
    assert response.status_code == 201
    with db.sessionmaker() as s:
        wp = s.get(Workplace, far)
        assert wp.workers_est is None and wp.version == 1
        assert s.scalar(select(EntityConflict.kind)).value == "area"
    body = staff["case"].get(f"/api/v1/workplaces/{far}").get_json()
    (conflict,) = body["conflicts"]
    assert conflict["kind"] == "area" and "commune" in conflict["reason_en"]
    assert conflict["reason_km"] and conflict["reason_km"] != conflict["reason_en"]
