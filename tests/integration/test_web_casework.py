"""Submissions and referrals on the web pages (test client): the same domain functions and audit
as the API, filters in the URL, bulk review, stale forms refused, roles, refusals explained."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server.db.models import AuditEntry, ReviewState, Submission
from server.db.models.cases import Referral, ReferralStatus
from server.db.session import Database
from tests.support.casework import submit, village_answers, visit_answers, workplace
from tests.support.staff_api import make_referral
from tests.support.web import WebClient, make_staff_account, title_of

pytestmark = pytest.mark.usefixtures("published_forms")


@pytest.fixture
def web(client: FlaskClient) -> WebClient:
    return WebClient(client)


def actions(db: Database) -> list[str]:
    with db.sessionmaker() as s:
        return [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_submissions_page__filters_in_the_url_and_bulk_review_with_a_note(db: Database, web: WebClient):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    visits = [submit(db, "workplace_visit", visit_answers(wp, visit_date=f"2026-11-0{d}")) for d in (1, 2)]
    report = submit(db, "village_data", village_answers(), by="V18010101")
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    html = web.get("/submissions?form=workplace_visit&commune=bad").get_data(as_text=True)
    assert visits[0] in html and visits[1] in html and report not in html
    assert 'name="form" value="workplace_visit"' in html  # the filter is carried into the bulk form
    r = web.post("/submissions/review", {"ids": [visits[0]], "state": "rejected", "note": ""},
                 from_page="/submissions")
    assert r.status_code == 302
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "សូមសរសេរមូលហេតុក្នុងកំណត់សម្គាល់" in page  # the refusal, explained in Khmer
    r = web.post("/submissions/review", {"form": "workplace_visit", "scope": "matching", "state": "approved",
                                         "note": "checked by phone"}, from_page="/submissions")
    assert r.headers["Location"].endswith("/submissions?form=workplace_visit")
    with db.sessionmaker() as s:
        states = {sub.root_instance_id: sub.review_state for sub in s.scalars(select(Submission))}
    assert states == {visits[0]: ReviewState.APPROVED, visits[1]: ReviewState.APPROVED,
                      report: ReviewState.RECEIVED}
    assert actions(db).count("submission.review.approved") == 2


def test_submission_page__answers_in_khmer_review_with_stale_form_refused_and_me_forbidden(
    db: Database, web: WebClient
):
    iid = submit(db, "village_data", village_answers(n_left="3", destinations="thailand"), by="V18010101")
    make_staff_account(db, "cw1", "case")
    make_staff_account(db, "me1", "me")
    web.sign_in("cw1")
    r = web.get(f"/submissions/{iid}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "ប្រទេសថៃ" in html and "[thailand]" in html  # label and code
    assert iid not in title_of(html)
    assert "submission.read" in actions(db)
    with db.sessionmaker() as s:
        sub = s.scalar(select(Submission))
        etag = f'"review-{sub.id.hex}-0-1"'
    r = web.post(f"/submissions/{iid}/review", {"etag": etag, "state": "rejected", "note": "duplicate visit"},
                 from_page=f"/submissions/{iid}")
    assert r.status_code == 302
    web.post(f"/submissions/{iid}/review", {"etag": etag, "state": "approved"},
             from_page=f"/submissions/{iid}")
    with db.sessionmaker() as s:
        assert s.scalar(select(Submission.review_state)) == ReviewState.REJECTED  # stale form refused
    html = web.get(f"/submissions/{iid}").get_data(as_text=True)
    assert "duplicate visit" in html and "មិនត្រូវបានរាប់ក្នុងរបាយការណ៍" in html  # left out of the reports
    web.sign_out()
    web.sign_in("me1")
    assert web.get(f"/submissions/{iid}").status_code == 403
    assert web.get("/submissions").status_code == 403


def test_referral_pages__acknowledge_refer_close_assign_note_and_child_cases_404(
    db: Database, web: WebClient
):
    with db.transaction() as s:
        old = datetime.now(UTC) - timedelta(hours=30)
        rid = str(make_referral(s, "C-0001", "forced_labour", priority="urgent", created_at=old).id)
        child = str(make_referral(s, "C-0002", "child_protection", priority="urgent").id)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    listing = web.get("/referrals?overdue=1").get_data(as_text=True)
    assert "C-0001" in listing and "C-0002" not in listing
    assert web.get(f"/referrals/{child}").status_code == 404

    def step(data: dict) -> None:
        with db.sessionmaker() as s:
            version = s.get(Referral, uuid.UUID(rid)).row_version
        r = web.post(f"/referrals/{rid}/act", {"row_version": str(version), **data},
                     from_page=f"/referrals/{rid}")
        assert r.status_code == 302, r.data

    page = web.get(f"/referrals/{rid}").get_data(as_text=True)
    assert "24" in page and "C-0001" in title_of(page)
    step({"step": "acknowledge", "note": "called"})
    step({"step": "refer", "referred_to": "labour_department"})
    r = web.post(f"/referrals/{rid}/act", {"row_version": "1", "step": "close", "outcome": "declined"},
                 from_page=f"/referrals/{rid}")
    assert "មាននរណាម្នាក់បានប្តូរករណីនេះ" in web.get(r.headers["Location"]).get_data(as_text=True)
    with db.sessionmaker() as s:
        assert s.get(Referral, uuid.UUID(rid)).status == ReferralStatus.REFERRED  # stale: refused
    step({"step": "close", "outcome": "service_received"})
    with db.sessionmaker() as s:
        version = s.get(Referral, uuid.UUID(rid)).row_version
    web.post(f"/referrals/{rid}/assign", {"row_version": str(version), "assignee": "cw1"},
             from_page=f"/referrals/{rid}")
    web.post(f"/referrals/{rid}/notes", {"text": "service confirmed"}, from_page=f"/referrals/{rid}")
    with db.sessionmaker() as s:
        ref = s.get(Referral, uuid.UUID(rid))
        assert (ref.status, ref.outcome, ref.outcome_by) == (ReferralStatus.CLOSED, "service_received",
                                                             "labour_department")
        assert ref.assigned_to_id is not None
    html = web.get(f"/referrals/{rid}").get_data(as_text=True)
    assert "service confirmed" in html
    for action in ("referral.acknowledged", "referral.referred", "referral.closed", "referral.assigned",
                   "referral.note", "referral.read"):
        assert action in actions(db)


def test_admin_reads_answers_only_after_stating_a_reason_which_is_audited(db: Database, web: WebClient):
    iid = submit(db, "village_data", village_answers(destinations="thailand", n_left="2"), by="V18010101")
    make_staff_account(db, "adm", "admin")
    web.sign_in("adm")
    html = web.get(f"/submissions/{iid}").get_data(as_text=True)
    assert "[thailand]" not in html and "reveal" in html
    r = web.post(f"/submissions/{iid}/reveal", {"reason": "  "}, from_page=f"/submissions/{iid}")
    assert r.status_code == 302 and "submission.read" not in actions(db)
    r = web.post(f"/submissions/{iid}/reveal", {"reason": "consent withdrawal request"},
                 from_page=f"/submissions/{iid}")
    assert r.status_code == 200 and "[thailand]" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    with db.sessionmaker() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "submission.read"))
        assert entry.reason == "consent withdrawal request"
