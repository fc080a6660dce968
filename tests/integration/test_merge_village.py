"""village_data merges: report per (village, period), correction candidates, case alerts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from server.db.models import (
    Referral,
    ReferralSource,
    VillageReport,
    VillageReportStatus,
    Workplace,
    WorkplaceStatus,
)
from server.db.session import Database
from server.sync import cases
from server.sync.worker import process_submission
from tests.support.submissions import add_submission, collector

pytestmark = pytest.mark.usefixtures("published_forms")


def report(**over: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": "2026-11-28T10:00:00.000+07:00",
        "collector": "V18010101",
        "reporter_role": "village_chief",
        "period": "2026-11-01",
        "period_ym": "2026-11",
        "commune": "180101",
        "village": "18010101",
        "n_households": "240",
        "n_left": "4",
        "n_left_women_15_24": "2",
        "n_left_under18": "0",
        "n_left_via_broker": "0",
        "n_returned": "1",
        "n_returned_need_help": "0",
        "n_children_working_away": "0",
        "n_venues": "3",
        "n_new_venues": "0",
        "any_concern": "no",
        "n_sessions": "0",
    }
    answers.update(over)
    return {k: v for k, v in answers.items() if v is not None}


def submit(db: Database, answers: dict[str, Any]) -> uuid.UUID:
    with db.transaction() as s:
        sid = add_submission(s, "village_data", answers, by=collector(s, "V18010101")).id
    result = process_submission(db, sid)
    assert result.ok, result.error
    return sid


def test_village__report_keyed_by_village_and_period(db: Database) -> None:
    sid = submit(db, report())
    with db.sessionmaker() as s:
        r = s.scalar(select(VillageReport))
        assert (r.village_code, r.period_ym, r.status) == ("18010101", "2026-11",
                                                            VillageReportStatus.ACCEPTED)
        assert r.submission_id == sid and r.n_left == 4
        assert s.scalar(select(func.count()).select_from(Referral)) == 0


def test_village__second_report_same_key__correction_candidate_not_overwrite(
    db: Database,
) -> None:
    submit(db, report())
    submit(db, report(n_left="9"))
    submit(db, report(period="2026-10-01", period_ym="2026-10"))
    with db.sessionmaker() as s:
        rows = s.scalars(select(VillageReport).order_by(VillageReport.created_at)).all()
        first, second, october = rows
        assert first.status == VillageReportStatus.ACCEPTED and first.n_left == 4
        assert second.status == VillageReportStatus.CORRECTION_PENDING
        assert second.correction_of_id == first.id and second.n_left == 9
        assert october.status == VillageReportStatus.ACCEPTED


def test_village__children_left__u18v_normal_priority(db: Database) -> None:
    submit(db, report(n_left_under18="1"))
    with db.sessionmaker() as s:
        (r,) = s.scalars(select(Referral)).all()
        assert (r.category.value, r.priority.value, r.triggers) == (
            "child_protection", "normal", ["U18-V"])
        assert r.village_code == "18010101" and r.person_descriptor == {}


def test_village__one_referral_per_case_alert(db: Database) -> None:
    alerts = [
        {"concern_type": "child_in_venue", "age_group": "15_17", "sex": "female",
         "where": "venue_in_village", "urgency": "this_week"},
        {"concern_type": "missing_person", "age_group": "18_24", "sex": "female",
         "where": "abroad", "urgency": "now"},
        {"concern_type": "violence_abuse", "age_group": "25_plus", "sex": "female",
         "where": "home_in_village", "urgency": "not_urgent"},
    ]
    submit(db, report(any_concern="yes", n_concerns="3", case_alert=alerts))
    with db.sessionmaker() as s:
        got = sorted((r.category.value, r.priority.value, tuple(r.triggers), r.restricted)
                     for r in s.scalars(select(Referral)))
        assert got == [
            ("abuse_violence", "normal", ("CONCERN",), False),
            ("child_protection", "urgent", ("U18",), True),
            ("trafficking", "urgent", ("TRF",), False),
        ]
        assert s.scalar(select(func.count()).select_from(ReferralSource)) == 3


def test_village__alert_about_known_workplace_attaches_to_visit_referral(db: Database) -> None:
    with db.transaction() as s:
        wp_id = cases.create_workplace(s, name_latin="Moonlight KTV", village_code="18010101").id
    # An open child-protection referral about the workplace from 10 days earlier.
    with db.transaction() as s:
        from server.db.models import Priority, ReferralCategory, ReferralSourceKind

        s.add(Referral(case_code="CTEST01", category=ReferralCategory.CHILD_PROTECTION,
                       triggers=["U18"], source=ReferralSourceKind.VISIT,
                       priority=Priority.URGENT, restricted=True, workplace_id=wp_id,
                       event_date=__import__("datetime").date(2026, 11, 18)))
    submit(db, report(any_concern="yes", n_concerns="1", case_alert=[
        {"concern_type": "child_in_venue", "age_group": "under_15", "where": "venue_in_village",
         "alert_workplace": str(wp_id), "urgency": "now"}]))
    with db.sessionmaker() as s:
        (r,) = s.scalars(select(Referral)).all()
        assert r.case_code == "CTEST01"
        assert s.scalar(select(ReferralSource)).referral_id == r.id


def test_village__report_sent_late_is_dated_by_the_month_it_covers(db: Database) -> None:
    submit(db, report(start="2027-01-05T09:00:00.000+07:00", n_left="2", n_left_under18="1"))
    with db.sessionmaker() as s:
        (r,) = s.scalars(select(Referral)).all()
        assert str(r.event_date) == "2026-11-01"


def test_village__new_venues_become_unverified_workplaces(db: Database) -> None:
    submit(db, report(n_new_venues="1", new_venue_count="1",
                      new_venue=[{"nv_name": "Angkor KTV", "nv_type": "karaoke"}]))
    with db.sessionmaker() as s:
        (wp,) = s.scalars(select(Workplace)).all()
        assert wp.status == WorkplaceStatus.UNVERIFIED and wp.commune_code == "180101"
        assert wp.names[0].name_latin == "Angkor KTV"
