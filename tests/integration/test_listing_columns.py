"""The staff list's filter columns on a submission (event date, month, commune, has alert): set by
every merge, edits included, backfilled by migration 0007, and the ones the list filters read."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import select, update

from server.db import migrate
from server.db.models import Submission
from server.db.session import Database
from server.sync.worker import process_submission
from tests.support.casework import submit, village_answers, visit_answers, workplace
from tests.support.staff_api import StaffClient, staff  # noqa: F401
from tests.support.submissions import edit_submission

pytestmark = pytest.mark.usefixtures("published_forms")


def columns(db: Database, iid: str) -> tuple[date | None, bool, str | None, bool]:
    with db.sessionmaker() as s:
        sub = s.scalar(select(Submission).where(Submission.root_instance_id == iid))
        return sub.event_date, sub.event_month, sub.commune_code, sub.has_alert


def edit(db: Database, iid: str, answers: dict) -> None:
    with db.transaction() as s:
        sub = s.scalar(select(Submission).where(Submission.root_instance_id == iid))
        edit_submission(s, sub, answers)
        sid = sub.id
    result = process_submission(db, sid)
    assert result.ok, result.error


def test_merge__visit_sets_its_date_workplace_commune_and_alert__an_edit_updates_them(db: Database):
    wp = workplace(db, "Golden Star KTV", "18010201", "180102")
    iid = submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-20", fl_seen="violence"))
    assert columns(db, iid) == (date(2026, 11, 20), False, "180102", True)
    edit(db, iid, visit_answers(wp, visit_date="2026-11-22", fl_seen="none"))
    assert columns(db, iid) == (date(2026, 11, 22), False, "180102", False)
    edit(db, iid, visit_answers(wp, visit_date="2026-11-22", fl_seen="violence"))
    assert columns(db, iid)[3] is True


def test_merge__village_report_is_its_month_in_its_commune(db: Database):
    iid = submit(db, "village_data", village_answers(), by="V18010101")
    assert columns(db, iid) == (date(2026, 11, 1), True, "180101", False)


def test_list__filters_read_the_stored_columns_not_the_case_rows(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    first = submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-03"))
    second = submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-04"))
    with db.transaction() as s:  # as if the merge had stored other facts for `first`
        s.execute(update(Submission).where(Submission.root_instance_id == first).values(
            event_date=date(2025, 2, 14), commune_code="180999", has_alert=True))

    def ids(query: str) -> list[str]:
        r = staff["case"].get(f"/api/v1/submissions?{query}")
        assert r.status_code == 200, r.data
        return [row["instance_id"] for row in r.get_json()]

    assert ids("commune=180999") == [first]
    assert ids("commune=180101") == [second]
    assert ids("event_from=2025-02-01&event_to=2025-02-28") == [first]
    assert ids("event_from=2026-11-01") == [second]
    assert ids("has_alert=true") == [first]
    assert ids("has_alert=false") == [second]
    row = staff["case"].get("/api/v1/submissions?commune=180999").get_json()[0]
    assert (row["event_date"], row["commune"], row["has_alert"]) == ("2025-02-14", "180999", True)


def test_list__month_report_matches_a_range_that_starts_inside_its_month(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    early = submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-03"))
    report = submit(db, "village_data", village_answers(), by="V18010101")  # November 2026

    def ids(query: str) -> list[str]:
        return [row["instance_id"] for row in staff["me"].get(f"/api/v1/submissions?{query}").get_json()]

    assert ids("event_from=2026-11-05") == [report]
    assert ids("event_from=2026-11-01&event_to=2026-11-03") == [report, early]
    assert ids("event_from=2026-12-01") == []
    assert early not in ids("event_from=2026-11-04")


def test_list__child_protection_alert_hidden_from_case_role_in_the_alert_filter(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
):
    wp = workplace(db, "Golden Star KTV", "18010101", "180101")
    child = submit(db, "workplace_visit", visit_answers(wp, u18_suspected="yes", n_u18="1"))
    assert columns(db, child)[3] is True
    for role, expected in (("case", []), ("me", []), ("child_protection", [child])):
        r = staff[role].get("/api/v1/submissions?has_alert=true")
        assert [row["instance_id"] for row in r.get_json()] == expected, role


def test_migration_0009__backfills_the_columns_from_the_case_rows(
    db: Database, database_url: str
):
    wp = workplace(db, "Golden Star KTV", "18010201", "180102")
    visit = submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-20", fl_seen="violence"))
    report = submit(db, "village_data", village_answers(), by="V18010101")
    cfg = migrate.alembic_config(database_url)
    db.engine.dispose()
    command.downgrade(cfg, "0008_reporting")
    command.upgrade(cfg, "head")
    db.engine.dispose()
    assert columns(db, visit) == (date(2026, 11, 20), False, "180102", True)
    assert columns(db, report) == (date(2026, 11, 1), True, "180101", False)


def _stored_and_read_back(db: Database, iid: str) -> tuple[tuple, tuple]:
    """The columns a first merge stored (from what its handler wrote) and the same columns read
    back from the case rows, as an edit's merge does."""
    from server.sync.merge import list_columns

    with db.transaction() as s:
        sub = s.scalar(select(Submission).where(Submission.root_instance_id == iid))
        stored = (sub.event_date, sub.event_month, sub.commune_code, sub.has_alert)
        list_columns.stamp(s, sub)
        read = (sub.event_date, sub.event_month, sub.commune_code, sub.has_alert)
        s.rollback()
    return stored, read


def test_first_merge__columns_from_the_handler_equal_the_columns_read_from_the_case_rows(db: Database):
    from tests.integration.test_merge_intake import intake

    wp = workplace(db, "Golden Star KTV", "18010201", "180102")
    iids = [
        submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-20", fl_seen="violence")),
        submit(db, "workplace_visit", visit_answers(wp, visit_date="2026-11-21")),
        submit(db, "village_data", village_answers(), by="V18010101"),
        submit(db, "member_intake", intake()),  # a new workplace typed in
        submit(db, "member_intake", intake(member_code="7K3Q9M-Y", workplace_in_list="yes",
                                           workplace=str(wp), workplace_new_name=None)),
        submit(db, "member_intake", intake(member_code=None, is_minor="yes", age_years="15",
                                           age_stated="15")),  # a minor: no member, a referral
        submit(db, "member_intake", intake(member_code="7K3Q9M-X", phone="0970009999")),  # same card
        submit(db, "member_intake", intake(member_code="7K3Q9M-Z", consent="no")),
    ]
    for iid in iids:
        stored, read = _stored_and_read_back(db, iid)
        assert stored == read, iid
    assert {_stored_and_read_back(db, i)[0][3] for i in iids} == {True, False}
