"""Real submissions for the case-work tests: forms published, submissions stored and merged by
the merge itself (so the visits, reports and referrals are the ones staff would see)."""

from __future__ import annotations

import uuid
from typing import Any

from server.db.session import Database
from server.sync import cases
from server.sync.worker import process_submission
from tests.support.submissions import add_submission, collector


def workplace(db: Database, name: str, village: str, commune: str) -> uuid.UUID:
    with db.transaction() as s:
        return cases.create_workplace(s, name_latin=name, type="karaoke", village_code=village,
                                      commune_code=commune, actor="test").id


def visit_answers(wp: uuid.UUID, **over: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": "2026-11-10T19:00:00.000+07:00", "collector": "PE07", "visit_date": "2026-11-10",
        "workplace_in_list": "yes", "workplace": str(wp), "visit_type": "routine",
        "access": "inside_freely", "manager_attitude": "neutral", "n_workers_est": "12", "n_met": "5",
        "n_members_present": "1", "u18_suspected": "no", "fl_seen": "none", "locked_in": "no",
        "forced_drinking": "no", "shift_hours": "8", "days_off": "3_4", "pay_type": "salary",
        "pe_safety": "safe",
    }
    answers.update(over)
    return {k: v for k, v in answers.items() if v is not None}


def village_answers(**over: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": "2026-11-28T10:00:00.000+07:00", "collector": "V18010101", "reporter_role": "village_chief",
        "period": "2026-11-01", "period_ym": "2026-11", "commune": "180101", "village": "18010101",
        "n_households": "240", "n_left": "4", "n_left_women_15_24": "2", "n_left_under18": "0",
        "n_left_via_broker": "0", "n_returned": "1", "n_returned_need_help": "0",
        "n_children_working_away": "0", "n_venues": "3", "n_new_venues": "0", "any_concern": "no",
        "n_sessions": "0",
    }
    answers.update(over)
    return {k: v for k, v in answers.items() if v is not None}


def submit(db: Database, form_id: str, answers: dict[str, Any], by: str = "PE07",
           entity: dict[str, str] | None = None) -> str:
    """Store and merge one submission; returns its instanceID."""
    with db.transaction() as s:
        sub = add_submission(s, form_id, answers, entity=entity, by=collector(s, by))
        sid, iid = sub.id, sub.root_instance_id
    result = process_submission(db, sid)
    assert result.ok, result.error
    return iid
