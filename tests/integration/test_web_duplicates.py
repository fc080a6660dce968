"""Duplicate review and the member page on the web: same domain functions and audit as the API,
stale decisions refused, personal data only for case roles, undo of a merge."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server.db.models import AuditEntry
from server.db.models.cases import CandidatePair, Member, PairStatus
from server.db.session import Database
from server.sync.cases import ordered_pair
from tests.support.staff_api import make_workplace
from tests.support.web import WebClient, make_staff_account, seed_member_pair, title_of


@pytest.fixture
def web(client: FlaskClient) -> WebClient:
    return WebClient(client)


def seed_pair(db: Database) -> dict[str, str]:
    return {k: str(v) for k, v in seed_member_pair(db).items()}


def audit_actions(db: Database) -> list[tuple[str, str]]:
    with db.transaction() as s:
        return [(a.action, a.object_id) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_list__codes_only_and_no_audit_needed(db: Database, web: WebClient):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    html = web.get("/duplicates").get_data(as_text=True)
    assert "AAAAAA-1" in html and "BBBBBB-2" in html and f"/duplicates/{ids['pair']}" in html
    assert "សុភា" not in html and "+855" not in html


def test_detail__both_records_side_by_side_audited(db: Database, web: WebClient):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    r = web.get(f"/duplicates/{ids['pair']}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for shown in ("សុខ សុភា", "សុខ សុភី", "+85512345678", "+85599887766", "Sok Sophea", "Srey",
                  "ថ្ងៃខែឆ្នាំកំណើតដូចគ្នា"):  # names in both scripts, phones, evidence in Khmer
        assert shown in html
    assert "សុភា" not in title_of(html) and "+855" not in title_of(html)
    assert set(audit_actions(db)) >= {("duplicate.read", ids["old"]), ("duplicate.read", ids["new"])}


def test_merge__oldest_survives_then_undo_restores(db: Database, web: WebClient):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    page = f"/duplicates/{ids['pair']}"
    r = web.post(f"{page}/merge", {"survivor": ids["old"], "row_version": "1", "note": "same photo"},
                 from_page=page)
    assert r.status_code == 302 and r.headers["Location"] == f"/members/{ids['old']}"
    with db.transaction() as s:
        assert s.get(Member, uuid.UUID(ids["new"])).merged_into_member_id == uuid.UUID(ids["old"])
        assert s.get(CandidatePair, uuid.UUID(ids["pair"])).status == PairStatus.MERGED
    actions = audit_actions(db)
    assert ("duplicate.merge", ids["pair"]) in actions and ("member.merge", ids["new"]) in actions
    member_page = web.get(f"/members/{ids['old']}").get_data(as_text=True)
    assert "BBBBBB-2" in member_page and 'action="/members/' in member_page
    r = web.post(f"/members/{ids['old']}/unmerge", {}, from_page=f"/members/{ids['old']}")
    assert r.status_code == 302
    with db.transaction() as s:
        assert s.get(Member, uuid.UUID(ids["new"])).merged_into_member_id is None
        assert s.get(CandidatePair, uuid.UUID(ids["pair"])).status == PairStatus.PENDING
    assert ("member.unmerge", ids["new"]) in audit_actions(db)


def test_merge__with_a_stale_page_is_refused_and_changes_nothing(db: Database, web: WebClient):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    page = f"/duplicates/{ids['pair']}"
    r = web.post(f"{page}/merge", {"row_version": "0"}, from_page=page)
    assert r.status_code == 412 and "ផ្ទុកឡើងវិញ" in r.get_data(as_text=True)
    with db.transaction() as s:
        assert s.get(CandidatePair, uuid.UUID(ids["pair"])).status == PairStatus.PENDING
        assert s.get(Member, uuid.UUID(ids["new"])).merged_into_member_id is None


def test_reject__remembered_and_audited(db: Database, web: WebClient):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    page = f"/duplicates/{ids['pair']}"
    r = web.post(f"{page}/reject", {"row_version": "1"}, from_page=page)
    assert r.status_code == 302
    with db.transaction() as s:
        assert s.get(CandidatePair, uuid.UUID(ids["pair"])).status == PairStatus.REJECTED
    assert ("duplicate.reject", ids["pair"]) in audit_actions(db)
    again = web.post(f"{page}/merge", {"row_version": "2"}, from_page=page)
    assert again.status_code == 409


def test_member_page__me_role_sees_no_names_or_phones(db: Database, web: WebClient):
    ids = seed_pair(db)
    make_staff_account(db, "me1", "me")
    web.sign_in("me1")
    r = web.get(f"/members/{ids['old']}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "AAAAAA-1" in html
    for secret in ("សុខ", "Sok Sophea", "+85512345678", "Pov"):
        assert secret not in html
    assert ("member.read", ids["old"]) not in audit_actions(db)
    assert web.get(f"/duplicates/{ids['pair']}").status_code == 403
    assert web.post(f"/members/{ids['old']}/unmerge", {}).status_code == 403


def test_member_page__unknown_or_malformed_id_is_404(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    assert web.get("/members/not-a-uuid").status_code == 404
    assert web.get("/members/00000000-0000-0000-0000-000000000000").status_code == 404
    assert web.get("/duplicates/nope").status_code == 404


def test_workplace_pair__compared_and_merged(db: Database, web: WebClient):
    with db.transaction() as s:
        w1 = make_workplace(s, "W-0001", "Golden Star KTV")
        w2 = make_workplace(s, "W-0002", "Golden Star Karaoke")
        a, b = ordered_pair(w1.id, w2.id)
        pair = CandidatePair(entity_type="workplace", a_id=a, b_id=b, score=0.8, band="probable",
                             evidence={"codes": ["name_similar", "village_equal"]})
        s.add(pair)
        s.flush()
        pair_id = str(pair.id)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    html = web.get(f"/duplicates/{pair_id}").get_data(as_text=True)
    assert "Golden Star KTV" in html and "Golden Star Karaoke" in html
    r = web.post(f"/duplicates/{pair_id}/merge", {"row_version": "1"}, from_page=f"/duplicates/{pair_id}")
    assert r.status_code == 302 and r.headers["Location"] == "/duplicates"
    with db.transaction() as s:
        assert s.get(CandidatePair, uuid.UUID(pair_id)).status == PairStatus.MERGED


def test_member_page__dates_formatted_in_the_page_language(db: Database, web: WebClient):
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    from server.db.models import utcnow

    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    today = utcnow().astimezone(ZoneInfo("Asia/Phnom_Penh")).date()
    page = f"/members/{ids['old']}"
    assert format_date(today, "medium", locale="km") in web.get(page).get_data(as_text=True)  # "2 ធ្នូ 2026"
    web.post("/language", {"lang": "en"})
    assert format_date(today, "medium", locale="en") in web.get(page).get_data(as_text=True)
