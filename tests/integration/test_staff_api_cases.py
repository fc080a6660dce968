"""Staff API over the case database: submissions, members, workplaces, referrals, role rules, audit."""

from __future__ import annotations

import json

from sqlalchemy import select

from server.db.models import AuditEntry, SubmissionState
from server.db.models.cases import CaseChange, EntityType, ReferralSource
from server.db.session import Database
from tests.support.staff_api import (  # noqa: F401
    StaffClient,
    make_member,
    make_referral,
    make_submission,
    make_workplace,
    staff,
)

PII_KEYS = {"family_name_km", "given_name_km", "name_latin_raw", "dob", "aliases", "phones",
            "origin_village_code", "origin_text", "age_at_intake"}
SECRETS = ("សុភា", "Sophea", "+85512345678", "Pov", "2001-03-04")


def audit_rows(db: Database) -> list[AuditEntry]:
    with db.transaction() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def assert_no_pii(response) -> None:
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text and json.dumps(secret)[1:-1] not in text, secret


# --- submissions ------------------------------------------------------------------------------
def test_submissions__list_filters_by_form_and_state(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    with db.transaction() as s:
        make_submission(s, "member_intake", state=SubmissionState.MERGED)
        make_submission(s, "member_intake", state=SubmissionState.MERGE_FAILED)
        make_submission(s, "village_data", state=SubmissionState.MERGED)
    r = staff["me"].get("/api/v1/submissions")
    assert r.status_code == 200 and len(r.get_json()) == 3
    assert json.loads(r.headers["X-Pagination"])["total"] == 3
    r = staff["case"].get("/api/v1/submissions?form=member_intake")
    assert {x["form"] for x in r.get_json()} == {"member_intake"} and len(r.get_json()) == 2
    r = staff["case"].get("/api/v1/submissions?form=member_intake&state=merge_failed")
    assert [x["state"] for x in r.get_json()] == ["merge_failed"]
    r = staff["case"].get("/api/v1/submissions?page_size=1&page=2")
    assert len(r.get_json()) == 1


def test_submission_detail__by_any_version_with_merge_result_and_cases(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        sub = make_submission(s, versions=2)
        first, second = sub.versions[0].instance_id, sub.versions[1].instance_id
        member = make_member(s, "7K3Q9M-X", source_submission_id=sub.id)
        wp = make_workplace(s, "W0001")
        s.add(CaseChange(entity_type=EntityType.WORKPLACE, entity_id=wp.id, field="status",
                         new_value="open", submission_version_id=sub.versions[1].id))
        health = make_referral(s, "C-0001", "health", member_id=member.id)
        s.add(ReferralSource(referral_id=health.id, submission_id=sub.id, alert_key="health"))
        ids = {"member": str(member.id), "workplace": str(wp.id), "health": str(health.id)}
    for iid in (first, second):
        r = staff["case"].get(f"/api/v1/submissions/{iid}")
        assert r.status_code == 200, r.data
        body = r.get_json()
        assert body["root_instance_id"] == first and body["instance_id"] == second
        assert [v["instance_id"] for v in body["versions"]] == [first, second]
        assert body["merge"]["state"] == "merged"
        assert body["merge"]["merged_version_instance_id"] == second
    cases = {(c["entity_type"], c["id"]): c["action"] for c in body["cases"]}
    assert cases[("member", ids["member"])] == "created"
    assert cases[("workplace", ids["workplace"])] == "updated"
    assert cases[("referral", ids["health"])] == "created"
    assert "xml" not in body and all("xml" not in v for v in body["versions"])


def test_submission_that_raised_a_child_protection_case__exists_only_for_that_role(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        sub = make_submission(s)
        health = make_referral(s, "C-0001", "health")
        child = make_referral(s, "C-0002", "child_protection")
        for ref in (health, child):
            s.add(ReferralSource(referral_id=ref.id, submission_id=sub.id, alert_key=str(ref.category)))
        iid, child_id = sub.root_instance_id, str(child.id)
    for role in ("case", "me", "admin"):
        assert staff[role].get(f"/api/v1/submissions/{iid}").status_code == 404
        assert staff[role].get("/api/v1/submissions").get_json() == []
    body = staff["child_protection"].get(f"/api/v1/submissions/{iid}").get_json()
    assert ("referral", child_id) in {(c["entity_type"], c["id"]) for c in body["cases"]}


# --- members: PII by role, audit ----------------------------------------------------------------
def test_members__case_role_sees_names_and_phones_and_each_read_is_audited(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        m1 = make_member(s, "AAAAAA-1")
        m2 = make_member(s, "BBBBBB-2", phone=None)
        ids = {str(m1.id), str(m2.id)}
    r = staff["case"].get("/api/v1/members")
    assert r.status_code == 200
    rows = r.get_json()
    assert {m["id"] for m in rows} == ids
    assert rows[0]["given_name_km"] == "សុភា" and rows[0]["phones"][0]["phone_e164"] == "+85512345678"
    assert rows[0]["pii_included"] is True
    audit = audit_rows(db)
    assert {(a.action, a.object_type, a.object_id) for a in audit} == {
        ("member.list", "member", i) for i in ids
    }
    assert {a.actor_id for a in audit} == {staff["case"].staff_id}
    assert all(a.request_id for a in audit)


def test_member_detail__with_submissions_aliases_provenance_audited_with_reason(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        sub = make_submission(s)
        m = make_member(s, "AAAAAA-1", source_submission_id=sub.id)
        s.add(CaseChange(entity_type=EntityType.MEMBER, entity_id=m.id, field="given_name_km",
                         old_value=None, new_value="សុភា", submission_version_id=sub.versions[0].id))
        make_referral(s, "C-0001", "health", member_id=m.id)
        make_referral(s, "C-0002", "child_protection", member_id=m.id)
        mid, iid = str(m.id), sub.root_instance_id
    r = staff["case"].get(f"/api/v1/members/{mid}", headers={"X-Sahakum-Reason": "follow-up call"})
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert body["member_code"] == "AAAAAA-1" and body["family_name_km"] == "សុខ"
    assert [a["value"] for a in body["aliases"]] == ["Pov"]
    assert [x["root_instance_id"] for x in body["submissions"]] == [iid]
    assert body["provenance"] == [
        {**body["provenance"][0], "field": "given_name_km", "new_value": "សុភា", "instance_id": iid}
    ]
    assert [ref["case_code"] for ref in body["referrals"]] == ["C-0001"]  # child case hidden
    (entry,) = audit_rows(db)
    assert (entry.action, entry.object_id, entry.reason) == ("member.read", mid, "follow-up call")
    body = staff["child_protection"].get(f"/api/v1/members/{mid}").get_json()
    assert sorted(ref["case_code"] for ref in body["referrals"]) == ["C-0001", "C-0002"]


def test_members__me_role_gets_no_names_phones_or_dob_and_no_audit(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        sub = make_submission(s)
        m = make_member(s, "AAAAAA-1", source_submission_id=sub.id)
        s.add(CaseChange(entity_type=EntityType.MEMBER, entity_id=m.id, field="given_name_km",
                         new_value="សុភា", submission_version_id=sub.versions[0].id))
        mid = str(m.id)
    for url in ("/api/v1/members", f"/api/v1/members/{mid}", "/api/v1/members?code=AAAAAA-1"):
        r = staff["me"].get(url)
        assert r.status_code == 200, r.data
        assert_no_pii(r)
        body = r.get_json()
        for row in body if isinstance(body, list) else [body]:
            assert not PII_KEYS & set(row)
            assert row["member_code"] == "AAAAAA-1" and row["pii_included"] is False
    detail = staff["me"].get(f"/api/v1/members/{mid}").get_json()
    assert detail["provenance"][0]["field"] == "given_name_km"
    assert "new_value" not in detail["provenance"][0]
    assert audit_rows(db) == []


def test_members__admin_needs_break_glass_reason_which_is_audited(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        mid = str(make_member(s, "AAAAAA-1").id)
    r = staff["admin"].get(f"/api/v1/members/{mid}")
    assert r.status_code == 200
    assert_no_pii(r)
    assert audit_rows(db) == []
    r = staff["admin"].get(f"/api/v1/members/{mid}", headers={"X-Sahakum-Reason": "consent withdrawn"})
    assert r.get_json()["given_name_km"] == "សុភា"
    (entry,) = audit_rows(db)
    assert (entry.actor_id, entry.action, entry.reason) == (
        staff["admin"].staff_id, "member.read", "consent withdrawn"
    )


def test_audit_entries_never_hold_names(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    with db.transaction() as s:
        make_member(s, "AAAAAA-1")
    staff["case"].get("/api/v1/members")
    for entry in audit_rows(db):
        for secret in SECRETS:
            assert secret not in f"{entry.object_id} {entry.object_type} {entry.action}"


def test_members__merged_records_hidden_unless_asked(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    with db.transaction() as s:
        a = make_member(s, "AAAAAA-1")
        make_member(s, "BBBBBB-2", merged_into_member_id=a.id)
    assert [m["member_code"] for m in staff["me"].get("/api/v1/members").get_json()] == ["AAAAAA-1"]
    r = staff["me"].get("/api/v1/members?include_merged=true")
    assert [m["member_code"] for m in r.get_json()] == ["AAAAAA-1", "BBBBBB-2"]


# --- workplaces ---------------------------------------------------------------------------------
def test_workplaces__list_and_detail_filter_child_protection_referrals(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        wp = make_workplace(s, "W0001", "Golden Star KTV")
        make_workplace(s, "W0002", "Moonlight", village_code="18010102")
        make_referral(s, "C-0001", "forced_labour", workplace_id=wp.id)
        make_referral(s, "C-0002", "child_protection", workplace_id=wp.id)
        wid = str(wp.id)
    r = staff["me"].get("/api/v1/workplaces")
    assert [w["workplace_code"] for w in r.get_json()] == ["W0001", "W0002"]
    assert r.get_json()[0]["display_name"] == "Golden Star KTV"
    r = staff["me"].get("/api/v1/workplaces?village=18010102")
    assert [w["workplace_code"] for w in r.get_json()] == ["W0002"]
    for role, expected in (("case", ["C-0001"]), ("me", ["C-0001"]), ("admin", ["C-0001"]),
                           ("child_protection", ["C-0001", "C-0002"])):
        body = staff[role].get(f"/api/v1/workplaces/{wid}").get_json()
        assert sorted(x["case_code"] for x in body["referrals"]) == expected, role
        assert body["names"][0]["name_latin"] == "Golden Star KTV"


# --- referrals ----------------------------------------------------------------------------------
def test_referrals__child_protection_visible_only_to_that_role(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        make_referral(s, "C-0001", "health")
        make_referral(s, "C-0002", "child_protection", priority="urgent")
        make_referral(s, "C-0003", "trafficking", restricted=True)
    for role in ("case", "me", "admin"):
        r = staff[role].get("/api/v1/referrals")
        assert [x["case_code"] for x in r.get_json()] == ["C-0001"], role
        assert json.loads(r.headers["X-Pagination"])["total"] == 1  # not even counted
        assert staff[role].get("/api/v1/referrals?category=child_protection").get_json() == []
    r = staff["child_protection"].get("/api/v1/referrals")
    assert sorted(x["case_code"] for x in r.get_json()) == ["C-0001", "C-0002", "C-0003"]


def test_referral_detail__restricted_is_404_for_other_roles_and_reads_are_audited(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    with db.transaction() as s:
        child = str(make_referral(s, "C-0002", "child_protection").id)
        health = str(make_referral(s, "C-0001", "health").id)
    for role in ("case", "me", "admin"):
        r = staff[role].get(f"/api/v1/referrals/{child}")
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
        assert staff[role].get(f"/api/v1/referrals/{health}").status_code == 200
    r = staff["child_protection"].get(f"/api/v1/referrals/{child}")
    assert r.status_code == 200 and r.get_json()["category"] == "child_protection"
    staff["child_protection"].get("/api/v1/referrals")
    audited = {(a.actor_id, a.action, a.object_id) for a in audit_rows(db)}
    cp = staff["child_protection"].staff_id
    assert (cp, "referral.read", child) in audited
    assert (cp, "referral.list", child) in audited
