"""In Chromium, in Khmer: a child-protection worker sees the urgent referral a peer educator's
visit raised, reads the visit's answers, acknowledges, assigns, refers and closes it with an
outcome; a case worker filters submissions and reviews several at once (JavaScript off too);
the referral list marks overdue cases. axe on each screen; no name or phone in a URL or title."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from server.db.models import AuditEntry, ReviewState, Submission
from server.db.models.cases import Referral, ReferralStatus
from server.db.session import Database
from tests.support.browser import UrlRecorder, assert_accessible, sign_in
from tests.support.casework import submit, village_answers, visit_answers, workplace
from tests.support.staff_api import make_referral
from tests.support.web import make_staff_account

pytestmark = pytest.mark.usefixtures("published_forms")
# Free text a collector might type (the form says "no names", people still do), and a phone.
PERSONAL = ["Srey Mom", "+85512345678", "012345678"]


def test_child_protection_worker_acts_on_the_urgent_referral_raised_by_a_visit(
    db: Database, page: Any, base_url: str, recorder: UrlRecorder
):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    submit(db, "workplace_visit", visit_answers(wp, u18_suspected="yes", n_u18="1",
                                                note="Srey Mom 012345678"))
    make_staff_account(db, "cp1", "child_protection")
    make_staff_account(db, "cp2", "child_protection")
    sign_in(page, base_url, "cp1")
    page.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="ការបញ្ជូនករណី").click()
    assert page.locator("h1").inner_text() == "ការបញ្ជូនករណី"
    row = page.get_by_role("row").filter(has_text="កិច្ចការពារកុមារ")
    assert "បន្ទាន់" in row.inner_text()
    assert_accessible(page)
    row.get_by_role("link").click()
    assert page.locator("h1").inner_text().startswith("ការបញ្ជូនករណី")
    assert "PE07" in page.get_by_role("table").inner_text()  # the reporter, for this role only
    assert_accessible(page)
    # Read the visit's answers (labels in Khmer, codes kept), then come back.
    page.get_by_role("link", name="ការចុះសួរសុខទុក្ខកន្លែងធ្វើការ").click()
    main = page.locator("main").inner_text()
    assert "បាទ/ចាស" in main and "[yes]" in main and "Srey Mom" in main
    assert_accessible(page)
    page.go_back()
    page.get_by_role("button", name="ទទួលស្គាល់").click()
    assert "បានទទួលស្គាល់" in page.get_by_role("status").inner_text()
    page.get_by_label("ប្រគល់ឱ្យ").select_option("cp2")
    page.get_by_role("button", name="រក្សាទុកការប្រគល់").click()
    page.get_by_label("បញ្ជូនទៅ").select_option("dosvy")
    page.get_by_role("button", name="បញ្ជូន", exact=True).click()
    page.get_by_label("លទ្ធផល").select_option("service_received")
    page.locator("#close-note").fill("placed with family, DoSVY follow-up")
    page.get_by_role("button", name="បិទករណី").click()
    assert "បានបិទ" in page.get_by_role("status").inner_text()
    history = page.locator("ol").last.inner_text()
    assert "placed with family" in history and "cp1" in history
    assert_accessible(page)
    with db.sessionmaker() as s:
        ref = s.scalar(select(Referral))
        assert (ref.status, ref.outcome) == (ReferralStatus.CLOSED, "service_received")
        assert ref.outcome_by == "dosvy"
        assert ref.acknowledged_at is not None
        done = set(s.scalars(select(AuditEntry.action)))
    assert {"referral.acknowledged", "referral.assigned", "referral.referred", "referral.closed",
            "submission.read", "referral.reporter.read"} <= done
    recorder.assert_free_of(PERSONAL)


def test_case_worker_filters_submissions_and_reviews_the_selected_ones_with_javascript_off(
    db: Database, base_url: str, context_factory: Callable[..., Any]
):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    visits = [submit(db, "workplace_visit", visit_answers(wp, visit_date=f"2026-11-0{d}")) for d in (1, 2, 3)]
    report = submit(db, "village_data", village_answers(), by="V18010101")
    make_staff_account(db, "cw1", "case")
    page = context_factory(java_script_enabled=False).new_page()
    recorder = UrlRecorder(page)
    sign_in(page, base_url, "cw1")
    page.goto(base_url + "/submissions")
    page.get_by_label("ទម្រង់បែបបទ").select_option("workplace_visit")
    page.get_by_label("កាលបរិច្ឆេទព្រឹត្តិការណ៍ ចាប់ពី").fill("2026-11-02")
    page.get_by_role("button", name="ត្រង", exact=True).click()
    assert "form=workplace_visit" in page.url and "event_from=2026-11-02" in page.url
    assert page.get_by_text("ទម្រង់ 2 ត្រូវនឹងតម្រង។").is_visible()
    page.get_by_role("checkbox").first.check()
    page.get_by_label("ស្ថានភាពពិនិត្យថ្មី").select_option("has_issues")
    page.get_by_label("កំណត់សម្គាល់ (ចាំបាច់ពេលបដិសេធ ឬកំណត់ថាមានបញ្ហា កុំសរសេរឈ្មោះ)").fill("count looks wrong")
    page.get_by_role("button", name="ពិនិត្យជួរដែលបានជ្រើស").click()
    assert "ទម្រង់ 1 ត្រូវបានកំណត់ថា «មានបញ្ហា»" in page.locator(".messages").inner_text()
    assert "form=workplace_visit" in page.url  # still filtered
    page.get_by_label("ស្ថានភាពពិនិត្យថ្មី").select_option("approved")
    page.get_by_role("button", name="ពិនិត្យទាំង 2 ដែលត្រូវនឹងតម្រង").click()
    with db.sessionmaker() as s:
        states = {x.root_instance_id: x.review_state for x in s.scalars(select(Submission))}
    assert states == {visits[0]: ReviewState.RECEIVED, visits[1]: ReviewState.APPROVED,
                      visits[2]: ReviewState.APPROVED, report: ReviewState.RECEIVED}
    recorder.assert_free_of(PERSONAL)


def test_submission_page__answers_in_khmer_review_note_in_the_history_and_rejected_marked(
    db: Database, page: Any, base_url: str, recorder: UrlRecorder
):
    iid = submit(db, "village_data", village_answers(n_left="3", destinations="thailand"), by="V18010101")
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    page.goto(f"{base_url}/submissions")
    assert_accessible(page)
    page.get_by_role("link", name="ទិន្នន័យភូមិ").click()
    assert iid in page.url
    assert "ប្រទេសថៃ" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_label("បានបដិសេធ").check()
    page.locator("#review-note").fill("sent twice by mistake")
    page.get_by_role("button", name="រក្សាទុកការពិនិត្យ").click()
    assert "មិនត្រូវបានរាប់ក្នុងរបាយការណ៍" in page.get_by_role("note").inner_text()
    assert "sent twice by mistake" in page.locator("ol").last.inner_text()
    assert_accessible(page)
    recorder.assert_free_of(PERSONAL)


def test_referral_list__overdue_urgent_cases_marked_and_filtered_and_child_cases_hidden(
    db: Database, page: Any, base_url: str
):
    with db.transaction() as s:
        make_referral(s, "C-0001", "forced_labour", priority="urgent",
                      created_at=datetime.now(UTC) - timedelta(hours=30))
        make_referral(s, "C-0002", "forced_labour", priority="urgent")
        make_referral(s, "C-0003", "child_protection", priority="urgent")
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    page.goto(base_url + "/referrals")
    table = page.get_by_role("table").inner_text()
    assert "C-0001" in table and "C-0002" in table and "C-0003" not in table
    overdue = page.get_by_role("row").filter(has_text="C-0001")
    assert "ហួសពេល" in overdue.inner_text()
    assert "ហួសពេល" not in page.get_by_role("row").filter(has_text="C-0002").inner_text()
    assert_accessible(page)
    page.get_by_label("ហួសគោលដៅ ២៤ ម៉ោង").check()
    page.get_by_role("button", name="ត្រង", exact=True).click()
    assert "overdue=1" in page.url
    assert "C-0002" not in page.get_by_role("table").inner_text()
