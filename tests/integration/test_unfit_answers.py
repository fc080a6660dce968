"""Every acknowledged answer is merged or explained (issue 9 item 9): hostile values sent
through OpenRosa for each form, as a modified or broken client may send them, never leave a
submission failed; the merge keeps the valid parts and records each value it could not use
with a reason in English and Khmer; staff correct (merged again) or dismiss it, audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from server.db.models import (
    AuditEntry,
    Form,
    Member,
    MonitoringVisit,
    Submission,
    SubmissionState,
    UnfitAnswer,
    UnfitStatus,
    VillageReport,
)
from server.db.session import Database
from server.sync.merge import fit
from tests.integration.test_merge_intake import intake
from tests.integration.test_merge_village import report
from tests.integration.test_merge_visit import visit
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe, village  # noqa: F401
from tests.support.staff_api import staff  # noqa: F401
from tests.support.submissions import build_xml

pytestmark = pytest.mark.usefixtures("published_forms")


def _send(db: Database, phone: CollectClient, form_id: str, answers: dict[str, Any]) -> str:
    with db.sessionmaker() as s:
        form_xml = s.scalar(select(Form).where(Form.xml_form_id == form_id)).versions[-1].xml
    iid = f"uuid:{uuid.uuid4()}"
    (response,) = phone.submit(build_xml(form_xml, answers, instance_id=iid))
    assert response.status_code == 201  # acknowledged: the phone deletes its copy
    return iid


def _unfit(db: Database, iid: str) -> dict[str, UnfitAnswer]:
    with db.sessionmaker() as s:
        sub = s.scalar(select(Submission).where(Submission.root_instance_id == iid))
        assert sub.state == SubmissionState.MERGED, sub.merge_error  # never stuck failed
        rows = s.scalars(select(UnfitAnswer).where(UnfitAnswer.submission_id == sub.id)).all()
        return {(f"{r.repeat}[{r.row}]/" if r.repeat else "") + r.field: r for r in rows}


def test_intake__overlong_text_bad_date_unknown_code__merged_with_reasons(
    db: Database, pe: CollectClient,  # noqa: F811
) -> None:
    iid = _send(db, pe, "member_intake", intake(
        given_name_km="ស" * 5000, dob_known="yes", dob="2000-02-31", sector="sugar_daddy",
        member_code="7K3Q9M-X" * 6, months_in_work="three", age_years="99999999999",
        origin_commune="Sangkat Muoy near the pagoda",
    ))
    unfit = _unfit(db, iid)
    assert {k: u.reason for k, u in unfit.items()} == {
        "given_name_km": "too_long", "dob": "not_a_date", "sector": "unknown_choice",
        "member_code": "too_long", "months_in_work": "not_a_number",
        "age_years": "number_out_of_range", "origin_commune": "bad_code",
    }
    assert unfit["given_name_km"].limit == 200 and len(unfit["given_name_km"].value) == fit.KEPT_CHARS
    with db.sessionmaker() as s:
        (member,) = s.scalars(select(Member)).all()
        # The valid parts are kept: her family name, Latin name, phone, workplace.
        assert member.family_name_km == "ចាន់" and member.name_latin_raw == "Chan Sokha"
        assert member.given_name_km is None and member.sector is None and member.dob is None
        assert member.current_workplace_id is not None
    for u in unfit.values():
        assert fit.explain(u.reason, u.limit, "km") != fit.explain(u.reason, u.limit, "en")


def test_visit__non_numeric_negative_bad_geopoint_unknown_codes__merged_with_reasons(
    db: Database, pe: CollectClient,  # noqa: F811
) -> None:
    iid = _send(db, pe, "workplace_visit", visit(
        None, workplace_in_list="no", wp_new_name_latin="Moon KTV", wp_new_type="karaoke",
        wp_commune="180101", wp_landmark="x" * 300, wp_location="north of the market",
        n_workers_est="lots", n_met="-3", visit_date="2026-13-45", access="kicked_out",
        members_affected="Sokha Dara", shift_hours="1e400",
    ))
    unfit = _unfit(db, iid)
    assert {k: u.reason for k, u in unfit.items()} == {
        "wp_landmark": "too_long", "wp_location": "not_a_location", "n_workers_est": "not_a_number",
        "n_met": "number_out_of_range", "visit_date": "not_a_date", "access": "unknown_choice",
        "members_affected": "bad_code", "shift_hours": "not_a_number",
    }
    with db.sessionmaker() as s:
        v = s.scalar(select(MonitoringVisit))
        assert v.n_workers_est is None and v.n_met is None and v.access is None
        assert v.n_members_present == 1 and v.pe_code == "PE07"
        assert str(v.visit_date) == "2026-11-10"  # from `start`: the form's event time


def test_village__unusable_village_code__merged_explained_then_corrected_by_staff(
    db: Database, village: CollectClient, staff: dict,  # noqa: F811
) -> None:
    iid = _send(db, village, "village_data", report(
        village="Phum Muoy", n_households="2,40", n_new_venues="2",
        new_venue=[{"nv_name": "Sun KTV", "nv_type": "karaoke"},
                   {"nv_name": "y" * 400, "nv_type": "casino"}],
    ))
    unfit = _unfit(db, iid)
    assert {k: u.reason for k, u in unfit.items()} == {
        "village": "bad_code", "n_households": "not_a_number",
        "new_venue[2]/nv_name": "too_long", "new_venue[2]/nv_type": "unknown_choice",
    }
    with db.sessionmaker() as s:
        assert s.scalar(select(VillageReport)) is None  # no key: nothing filed yet
    case = staff["case"]
    url = f"/api/v1/submissions/{iid}/unfit"
    listed = case.get(url).get_json()
    assert {u["reason"] for u in listed} >= {"bad_code"}
    assert all(u["explanation_km"] and u["explanation_en"] for u in listed)
    # The `me` role sees why, never the value.
    assert all(u["value"] is None for u in staff["me"].get(url).get_json())
    vid = unfit["village"].id
    bad = case.post(f"{url}/{vid}/correct", json={"value": "Phum Pir"})
    assert bad.status_code == 422
    ok = case.post(f"{url}/{vid}/correct", json={"value": "18010101"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "corrected"
    assert case.post(f"{url}/{vid}/dismiss").status_code == 409  # already decided
    assert case.post(f"{url}/5690893867089/dismiss").status_code == 404  # beyond any id: no 500
    dismissed = case.post(f"{url}/{unfit['n_households'].id}/dismiss")
    assert dismissed.status_code == 200
    with db.sessionmaker() as s:
        r = s.scalar(select(VillageReport))
        assert r.village_code == "18010101" and r.n_households is None and r.n_left == 4
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"submission.answer.correct", "submission.answer.dismiss"} <= actions
        states = {u.field: u.status for u in s.scalars(select(UnfitAnswer))}
        assert states["village"] == UnfitStatus.CORRECTED
        assert states["n_households"] == UnfitStatus.DISMISSED
        assert states["nv_name"] == UnfitStatus.OPEN
    # The work queue counts it while answers wait, and the list filters on it.
    assert case.get("/api/v1/workqueue").get_json()["answers_to_correct"] == 1
    waiting = case.get("/api/v1/submissions?to_correct=true").get_json()
    assert [w["instance_id"] for w in waiting] == [iid]


def test_unfit_values_never_reach_logs_or_audit(
    db: Database, pe: CollectClient, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:
    _send(db, pe, "member_intake", intake(given_name_km="Sokha" * 100, sector="Sokha's bar"))
    assert "Sokha" not in caplog.text
    with db.sessionmaker() as s:
        assert not any("Sokha" in (a.reason or "") for a in s.scalars(select(AuditEntry)))


def test_edit_supersedes_open_unfit_answers(db: Database, pe: CollectClient) -> None:  # noqa: F811
    with db.sessionmaker() as s:
        form_xml = s.scalar(select(Form).where(Form.xml_form_id == "member_intake")).versions[-1].xml
    first = f"uuid:{uuid.uuid4()}"
    pe.submit(build_xml(form_xml, intake(sector="nope"), instance_id=first))
    second = f"uuid:{uuid.uuid4()}"
    (r,) = pe.submit(build_xml(form_xml, intake(), instance_id=second, deprecated_id=first))
    assert r.status_code == 201
    with db.sessionmaker() as s:
        (row,) = s.scalars(select(UnfitAnswer)).all()
        assert row.status == UnfitStatus.SUPERSEDED
        assert s.scalar(select(Member)).sector == "karaoke"


def test_submission_page__shows_reason_and_staff_dismiss_from_the_page(
    db: Database, pe: CollectClient, client: Any,  # noqa: F811
) -> None:
    from tests.support.web import WebClient, make_staff_account

    iid = _send(db, pe, "workplace_visit", visit(None, workplace_in_list="no",
                                                 wp_new_name_latin="Moon KTV", wp_commune="180101",
                                                 wp_new_type="karaoke", access="kicked_out"))
    (row,) = _unfit(db, iid).values()
    make_staff_account(db, "cw1", "case")
    web = WebClient(client)
    web.sign_in("cw1")
    page = web.get(f"/submissions/{iid}").get_data(as_text=True)
    assert "kicked_out" in page and fit.explain("unknown_choice", None, "km") in page
    home = web.get("/").get_data(as_text=True)
    assert "to_correct=yes" in home
    r = web.post(f"/submissions/{iid}/unfit/{row.id}/dismiss", from_page=f"/submissions/{iid}")
    assert r.status_code == 302
    with db.sessionmaker() as s:
        assert s.get(UnfitAnswer, row.id).status == UnfitStatus.DISMISSED
