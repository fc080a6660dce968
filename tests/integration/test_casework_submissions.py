"""Staff API for submissions: answers with labels, the filtered list, review (single, bulk, all
matching), comments and the feed with diffs; role rules and audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from server.db.models import AuditEntry, Submission, SubmissionVersion
from server.db.session import Database
from tests.support.casework import submit, village_answers, visit_answers, workplace
from tests.support.staff_api import StaffClient, staff  # noqa: F401
from tests.support.submissions import edit_submission

pytestmark = pytest.mark.usefixtures("published_forms")


def audit_actions(db: Database) -> list[tuple[str, str]]:
    with db.sessionmaker() as s:
        return [(a.action, a.object_id) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def submission_id(db: Database, iid: str) -> str:
    with db.sessionmaker() as s:
        return str(s.scalar(select(Submission.id).where(Submission.root_instance_id == iid)))


def flat(nodes):
    for n in nodes:
        if n["kind"] == "field":
            yield n
        yield from flat(n["children"])
        for row in n["rows"]:
            yield from flat(row)


def test_answers__form_labels_in_khmer_and_english_with_codes_repeats_and_audit(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    iid = submit(db, "village_data", village_answers(
        n_left="3", destinations="phnom_penh thailand", any_concern="yes", n_concerns="1",
        case_alert=[{"concern_type": "missing_person", "age_group": "18_24", "sex": "female"}]),
        by="V18010101")
    r = staff["case"].get(f"/api/v1/submissions/{iid}/answers?lang=en")
    assert r.status_code == 200, r.data
    fields = {f["path"]: f for f in flat(r.get_json()["answers"])}
    dest = fields["/data/destinations"]
    assert (dest["label"], dest["value"]) == ("Where did they go?", "phnom_penh thailand")
    assert dest["value_label"] == "Phnom Penh, Thailand"
    assert fields["/data/village"]["value_label"] == "Phum Muoy"  # from the form's villages.csv
    concern = fields["/data/g_concerns/case_alert[1]/concern_type"]
    assert (concern["value"], concern["value_label"]) == ("missing_person", "Missing person")
    r = staff["case"].get(f"/api/v1/submissions/{iid}/answers")
    km = {f["path"]: f for f in flat(r.get_json()["answers"])}
    assert km["/data/destinations"]["label"] == "តើពួកគេទៅណា?"
    assert km["/data/destinations"]["value_label"].startswith("ភ្នំពេញ")
    sid = submission_id(db, iid)
    assert audit_actions(db) == [("submission.read", sid), ("submission.read", sid)]


def test_answers__me_role_never_admin_only_with_a_reason(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    iid = submit(db, "village_data", village_answers(), by="V18010101")
    assert staff["me"].get(f"/api/v1/submissions/{iid}/answers").status_code == 403
    assert staff["me"].get(f"/api/v1/submissions/{iid}/feed").status_code == 403
    assert staff["admin"].get(f"/api/v1/submissions/{iid}/answers").status_code == 403
    assert audit_actions(db) == []
    r = staff["admin"].get(f"/api/v1/submissions/{iid}/answers", headers={"X-Sahakum-Reason": "audit check"})
    assert r.status_code == 200
    with db.sessionmaker() as s:
        (entry,) = s.scalars(select(AuditEntry)).all()
        assert (entry.action, entry.reason) == ("submission.read", "audit check")


def test_list__filters_by_form_collector_commune_event_dates_review_state_and_alert(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    wp_a = workplace(db, "Golden Star KTV", "18010101", "180101")
    wp_b = workplace(db, "Blue Moon", "18010201", "180102")
    quiet = submit(db, "workplace_visit", visit_answers(wp_a, visit_date="2026-11-03"))
    alert = submit(db, "workplace_visit", visit_answers(wp_b, visit_date="2026-11-20", fl_seen="violence"),
                   by="PE08")
    report = submit(db, "village_data", village_answers(), by="V18010101")

    def ids(query: str) -> list[str]:
        r = staff["me"].get(f"/api/v1/submissions?{query}")
        assert r.status_code == 200, r.data
        return [row["instance_id"] for row in r.get_json()]

    assert ids("") == [report, alert, quiet]  # newest first
    assert ids("form=workplace_visit") == [alert, quiet]
    assert ids("collector=PE08") == [alert]
    assert ids("commune=180102") == [alert]
    assert ids("commune=180101") == [report, quiet]
    assert ids("event_from=2026-11-05&event_to=2026-11-30") == [report, alert]
    assert ids("event_to=2026-11-04") == [report, quiet]  # the report covers November
    assert ids("has_alert=true") == [alert]
    assert ids("has_alert=false&form=workplace_visit") == [quiet]
    assert ids("review_state=received&page_size=1&page=2") == [alert]
    row = staff["me"].get("/api/v1/submissions?collector=PE08").get_json()[0]
    assert (row["event_date"], row["commune"], row["has_alert"], row["collector"]) == (
        "2026-11-20", "180102", True, "PE08")
    r = staff["me"].get("/api/v1/submissions?page_size=2")
    assert json.loads(r.headers["X-Pagination"])["total"] == 3
    assert staff["me"].get("/api/v1/submissions?commune=18%00").status_code == 422


def test_review__one_submission_with_if_match_note_required_audited_and_rejected_not_counted(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    iid = submit(db, "village_data", village_answers(), by="V18010101")
    url = f"/api/v1/submissions/{iid}/review"
    etag = staff["case"].get(f"/api/v1/submissions/{iid}").headers["ETag"]
    assert staff["case"].post(url, json={"state": "approved"}).status_code == 428
    assert staff["case"].post(url, json={"state": "approved"}, headers={"If-Match": '"x"'}).status_code == 412
    r = staff["case"].post(url, json={"state": "rejected"}, headers={"If-Match": etag})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "review.note_required"
    assert staff["me"].post(url, json={"state": "approved"}, headers={"If-Match": etag}).status_code == 403
    r = staff["case"].post(url, json={"state": "rejected", "note": "test submission"},
                           headers={"If-Match": etag})
    assert r.status_code == 200, r.data
    assert r.get_json()["review_state"] == "rejected" and r.headers["ETag"] != etag
    # A second reviewer who read the old state cannot overwrite the decision.
    r2 = staff["child_protection"].post(url, json={"state": "approved"}, headers={"If-Match": etag})
    assert r2.status_code == 412
    detail = staff["me"].get(f"/api/v1/submissions/{iid}").get_json()
    assert detail["review_state"] == "rejected" and detail["counted_in_reports"] is False
    assert ("submission.review.rejected", submission_id(db, iid)) in audit_actions(db)
    from server.casework.submission_review import counted_in_reports

    with db.sessionmaker() as s:
        assert s.scalar(select(Submission.id).where(counted_in_reports())) is None


def test_bulk_review__selected_rows_and_all_rows_matching_a_filter(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    visits = [submit(db, "workplace_visit", visit_answers(wp, visit_date=f"2026-11-0{d}")) for d in (1, 2, 3)]
    report = submit(db, "village_data", village_answers(), by="V18010101")
    r = staff["case"].post("/api/v1/submissions/review",
                           json={"instance_ids": visits[:2], "state": "approved", "note": "checked"})
    assert r.status_code == 200 and r.get_json()["reviewed"] == 2
    states = {x["instance_id"]: x["review_state"] for x in staff["me"].get("/api/v1/submissions").get_json()}
    assert states == {visits[0]: "approved", visits[1]: "approved", visits[2]: "received", report: "received"}
    r = staff["case"].post("/api/v1/submissions/review", json={
        "filter": {"form": "workplace_visit", "review_state": "received"}, "state": "has_issues",
        "note": "workers count looks wrong"})
    assert r.get_json()["reviewed"] == 1
    states = {x["instance_id"]: x["review_state"] for x in staff["me"].get("/api/v1/submissions").get_json()}
    assert states[visits[2]] == "has_issues" and states[report] == "received"
    reviewed = [a for a in audit_actions(db) if a[0].startswith("submission.review")]
    assert len(reviewed) == 3
    bad = staff["case"].post("/api/v1/submissions/review", json={"state": "approved"})
    assert bad.status_code == 422
    assert staff["case"].post("/api/v1/submissions/review", json={
        "instance_ids": ["uuid:nope"], "state": "approved"}).status_code == 404


def test_comments_and_feed__edit_diff_with_labels_review_note_and_comment_in_order(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    iid = submit(db, "village_data", village_answers(), by="V18010101")
    with db.transaction() as s:
        sub = s.scalar(select(Submission).where(Submission.root_instance_id == iid))
        edit_submission(s, sub, village_answers(n_left="6", destinations="thailand"))
    etag = staff["case"].get(f"/api/v1/submissions/{iid}").headers["ETag"]
    staff["case"].post(f"/api/v1/submissions/{iid}/review", json={"state": "approved", "note": "ok now"},
                       headers={"If-Match": etag})
    r = staff["case"].post(f"/api/v1/submissions/{iid}/comments", json={"text": "called the chief"})
    assert r.status_code == 201 and r.get_json()["actor"] == "test-case"
    assert staff["case"].post(f"/api/v1/submissions/{iid}/comments", json={"text": "  "}).status_code == 422
    assert staff["me"].post(f"/api/v1/submissions/{iid}/comments", json={"text": "x"}).status_code == 403
    feed = staff["case"].get(f"/api/v1/submissions/{iid}/feed?lang=en").get_json()
    assert [e["kind"] for e in feed] == ["received", "edited", "review", "comment"]
    changes = {c["path"]: c for c in feed[1]["changes"]}
    assert (changes["/data/n_left"]["old_value"], changes["/data/n_left"]["new_value"]) == ("4", "6")
    assert changes["/data/destinations"]["new_label"] == "Thailand"
    assert changes["/data/n_left"]["label"].startswith("People who left")
    assert (feed[2]["state"], feed[2]["note"], feed[2]["actor"]) == ("approved", "ok now", "test-case")
    assert feed[3]["note"] == "called the chief"
    comments = staff["child_protection"].get(f"/api/v1/submissions/{iid}/comments").get_json()
    assert [c["text"] for c in comments] == ["called the chief"]
    with db.sessionmaker() as s:
        edited = s.scalar(select(SubmissionVersion.instance_id).where(SubmissionVersion.is_current.is_(True)))
    r = staff["case"].get(f"/api/v1/submissions/{edited}/answers?lang=en&version={iid}")
    first = {f["path"]: f["value"] for f in flat(r.get_json()["answers"])}
    assert r.get_json()["instance_id"] == iid and first["/data/n_left"] == "4"


def test_openapi_documents_the_case_work_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/submissions/{instance_id}/answers", "/api/v1/submissions/{instance_id}/review",
                 "/api/v1/submissions/review", "/api/v1/submissions/{instance_id}/comments",
                 "/api/v1/submissions/{instance_id}/feed", "/api/v1/referrals/{referral_id}/close",
                 "/api/v1/referrals/{referral_id}/assign", "/api/v1/workqueue"):
        assert path in doc["paths"], path
