"""In Chromium: a case worker compares a duplicate pair, merges it, undoes the merge from the
member's page; "not the same" with JavaScript off; axe on each screen; no names or phones in
any URL or page title."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from server.db.models import AuditEntry
from server.db.models.cases import CandidatePair, Member, PairStatus
from server.db.session import Database
from tests.support.browser import UrlRecorder, assert_accessible, sign_in
from tests.support.web import make_staff_account, seed_member_pair

PERSONAL = ["សុខ", "សុភា", "សុភី", "Sok Sophea", "+85512345678", "+85599887766", "Pov", "Srey"]


def seed_pair(db: Database) -> dict[str, uuid.UUID]:
    return seed_member_pair(db)


def test_merge_a_pair_then_undo_it_from_the_member_page(
    db: Database, page: Any, base_url: str, recorder: UrlRecorder
):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    page.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="កំណត់ត្រាស្ទួន").click()
    assert page.locator("h1").inner_text() == "កំណត់ត្រាដែលអាចស្ទួនគ្នា"
    assert_accessible(page)
    page.get_by_role("link", name="ប្រៀបធៀប").click()
    table = page.get_by_role("table")
    assert "សុខ សុភា" in table.inner_text() and "សុខ សុភី" in table.inner_text()
    assert "+85599887766" in table.inner_text()
    assert_accessible(page)
    page.get_by_label("កំណត់សម្គាល់ (មិនចាំបាច់)").first.fill("same photo on the card")
    page.get_by_role("button", name="បញ្ចូលគ្នា៖ មនុស្សតែមួយ").click()
    assert page.url == f"{base_url}/members/{ids['old']}"
    assert "ផ្លាស់ប្តូរ" not in page.get_by_role("status").inner_text()  # no error, a confirmation
    assert "BBBBBB-2" in page.locator("main").inner_text()
    assert_accessible(page)
    with db.transaction() as s:
        assert s.get(Member, ids["new"]).merged_into_member_id == ids["old"]
        reasons = set(s.scalars(select(AuditEntry.reason).where(AuditEntry.action == "duplicate.merge")))
    assert reasons == {"same photo on the card"}
    page.get_by_role("button", name="លុបចោលការបញ្ចូលគ្នាចុងក្រោយ").click()
    assert "ត្រឡប់ដូចដើមវិញ" in page.get_by_role("status").inner_text()
    with db.transaction() as s:
        assert s.get(Member, ids["new"]).merged_into_member_id is None
        assert s.get(CandidatePair, ids["pair"]).status == PairStatus.PENDING
    recorder.assert_free_of(PERSONAL)


def test_not_the_same__works_with_javascript_off(
    db: Database, base_url: str, context_factory: Callable[..., Any]
):
    ids = seed_pair(db)
    make_staff_account(db, "cw1", "case")
    page = context_factory(java_script_enabled=False).new_page()
    recorder = UrlRecorder(page)
    sign_in(page, base_url, "cw1")
    page.goto(f"{base_url}/duplicates/{ids['pair']}")
    page.get_by_role("button", name="មិនមែនជាមនុស្សតែមួយ").click()
    assert page.url == f"{base_url}/duplicates"
    assert "នឹងមិនត្រូវបានស្នើម្តងទៀតទេ" in page.get_by_role("status").inner_text()
    with db.transaction() as s:
        assert s.get(CandidatePair, ids["pair"]).status == PairStatus.REJECTED
    recorder.assert_free_of(PERSONAL)


def test_member_page__monitoring_role_sees_codes_only(db: Database, page: Any, base_url: str):
    ids = seed_pair(db)
    make_staff_account(db, "me1", "me")
    sign_in(page, base_url, "me1")
    page.goto(f"{base_url}/members/{ids['old']}")
    html = page.content()
    assert "AAAAAA-1" in html
    for value in PERSONAL:
        assert value not in html
    assert page.get_by_role("button", name="លុបចោលការបញ្ចូលគ្នាចុងក្រោយ").count() == 0
    assert_accessible(page)
