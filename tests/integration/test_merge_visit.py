"""workplace_visit merges: ODK entity updates and conflicts, risk, referrals, the 14-day rule."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from server.db.models import (
    CandidatePair,
    ConflictKind,
    EntityConflict,
    EntityType,
    MonitoringVisit,
    Referral,
    ReferralSource,
    ReferralStatus,
    Workplace,
    WorkplaceStatus,
)
from server.db.session import Database
from server.sync import cases
from server.sync.worker import process_submission
from tests.support.submissions import add_submission, collector, edit_submission

pytestmark = pytest.mark.usefixtures("published_forms")


@pytest.fixture
def wp_id(db: Database) -> uuid.UUID:
    with db.transaction() as s:
        wp = cases.create_workplace(s, name_latin="Golden Star KTV", type="karaoke",
                                    village_code="18010101", actor="test")
        return wp.id


def visit(wp: uuid.UUID | None, **over: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": "2026-11-10T19:00:00.000+07:00",
        "collector": "PE07",
        "visit_date": "2026-11-10",
        "workplace_in_list": "yes",
        "workplace": str(wp) if wp else None,
        "visit_type": "routine",
        "access": "inside_freely",
        "manager_attitude": "neutral",
        "n_workers_est": "12",
        "n_met": "5",
        "n_members_present": "1",
        "u18_suspected": "no",
        "fl_seen": "none",
        "locked_in": "no",
        "forced_drinking": "no",
        "shift_hours": "8",
        "days_off": "3_4",
        "pay_type": "salary",
        "pe_safety": "safe",
    }
    answers.update(over)
    return {k: v for k, v in answers.items() if v is not None}


def entity(wp: uuid.UUID, base: int, trunk: int | None = None, branch: str = "") -> dict[str, str]:
    return {"id": str(wp), "baseVersion": str(base),
            "trunkVersion": str(trunk if trunk is not None else base), "branchId": branch}


def submit(db: Database, answers: dict[str, Any], ent: dict[str, str] | None = None,
           by: str = "PE07") -> uuid.UUID:
    with db.transaction() as s:
        sid = add_submission(s, "workplace_visit", answers, entity=ent, by=collector(s, by)).id
    result = process_submission(db, sid)
    assert result.ok, result.error
    return sid


def test_visit__updates_entity_and_creates_visit(db: Database, wp_id: uuid.UUID) -> None:
    sid = submit(db, visit(wp_id), entity(wp_id, 1))
    with db.sessionmaker() as s:
        wp = s.get(Workplace, wp_id)
        assert wp.version == 2
        assert wp.last_visit_date.isoformat() == "2026-11-10"
        assert (wp.last_access, wp.workers_est) == ("inside_freely", 12)
        assert wp.risk_level.value == "green" and wp.has_conflict is False
        v = s.scalar(select(MonitoringVisit))
        assert v.submission_id == sid and v.workplace_id == wp_id and v.pe_code == "PE07"
        assert s.scalar(select(func.count()).select_from(Referral)) == 0


def test_visit__parallel_update_same_values__soft_conflict(db: Database, wp_id: uuid.UUID) -> None:
    submit(db, visit(wp_id), entity(wp_id, 1))
    submit(db, visit(wp_id, collector="PE08"), entity(wp_id, 1), by="PE08")
    with db.sessionmaker() as s:
        (c,) = s.scalars(select(EntityConflict)).all()
        assert c.kind == ConflictKind.SOFT and (c.base_version, c.server_version) == (1, 2)
        assert s.get(Workplace, wp_id).version == 3
        assert s.scalar(select(func.count()).select_from(MonitoringVisit)) == 2  # never rejected


def test_visit__parallel_update_different_value__hard_conflict(
    db: Database, wp_id: uuid.UUID
) -> None:
    submit(db, visit(wp_id), entity(wp_id, 1))
    submit(db, visit(wp_id, n_workers_est="25"), entity(wp_id, 1), by="PE08")
    with db.sessionmaker() as s:
        (c,) = s.scalars(select(EntityConflict)).all()
        assert c.kind == ConflictKind.HARD and c.properties == ["workers_est"]
        wp = s.get(Workplace, wp_id)
        assert wp.has_conflict and wp.workers_est == 25 and wp.version == 3


def test_visit__offline_branch_out_of_order__applied_by_visit_date(
    db: Database, wp_id: uuid.UUID
) -> None:
    branch = str(uuid.uuid4())
    # On the phone: visit 1 (base 1) then visit 2 (base 2, same branch). Visit 2 arrives first.
    submit(db, visit(wp_id, visit_date="2026-11-12", n_workers_est="20", access="outside_only"),
           entity(wp_id, 2, trunk=1, branch=branch))
    submit(db, visit(wp_id, visit_date="2026-11-10", n_workers_est="12"),
           entity(wp_id, 1, trunk=1, branch=branch))
    with db.sessionmaker() as s:
        wp = s.get(Workplace, wp_id)
        assert wp.version == 3
        assert wp.last_visit_date.isoformat() == "2026-11-12"  # the later visit wins
        assert (wp.workers_est, wp.last_access) == (20, "outside_only")
        assert s.scalar(select(func.count()).select_from(EntityConflict)) == 0


def test_visit__late_older_visit_from_other_pe__does_not_overwrite_newer(
    db: Database, wp_id: uuid.UUID
) -> None:
    submit(db, visit(wp_id, visit_date="2026-11-12", n_workers_est="20"), entity(wp_id, 1))
    submit(db, visit(wp_id, visit_date="2026-11-05", n_workers_est="9"), entity(wp_id, 1),
           by="PE08")
    with db.sessionmaker() as s:
        wp = s.get(Workplace, wp_id)
        assert wp.last_visit_date.isoformat() == "2026-11-12" and wp.workers_est == 20
        assert s.scalar(select(EntityConflict)).kind == ConflictKind.HARD


@pytest.mark.parametrize(
    ("over", "category", "priority", "risk"),
    [
        ({"u18_suspected": "unsure", "n_u18": "1"}, "child_protection", "urgent", "red"),
        ({"locked_in": "yes"}, "forced_labour", "urgent", "red"),
        ({"fl_seen": "debt_bondage"}, "forced_labour", "urgent", "red"),
        ({"forced_drinking": "yes", "days_off": "none"}, "forced_labour", "normal", "red"),
        ({"pe_safety": "threatened"}, "pe_security", "urgent", "green"),
    ],
)
def test_visit__alert_rules(
    db: Database, wp_id: uuid.UUID, over: dict[str, Any], category: str, priority: str, risk: str
) -> None:
    submit(db, visit(wp_id, **over), entity(wp_id, 1))
    with db.sessionmaker() as s:
        (r,) = s.scalars(select(Referral)).all()
        assert (r.category.value, r.priority.value) == (category, priority)
        assert r.workplace_id == wp_id and r.source.value == "visit"
        assert r.restricted is (category == "child_protection")
        assert s.get(Workplace, wp_id).risk_level.value == risk


def test_visit__risk_stays_red_while_an_urgent_referral_about_the_place_is_open(
    db: Database, wp_id: uuid.UUID
) -> None:
    submit(db, visit(wp_id, locked_in="yes", visit_date="2026-11-01"), entity(wp_id, 1))
    submit(db, visit(wp_id, visit_date="2026-11-08"), entity(wp_id, 2))  # a calm visit
    with db.sessionmaker() as s:
        assert s.get(Workplace, wp_id).risk_level.value == "red"
    with db.transaction() as s:
        s.scalar(select(Referral)).status = ReferralStatus.CLOSED
    submit(db, visit(wp_id, visit_date="2026-11-15"), entity(wp_id, 3))
    with db.sessionmaker() as s:
        # Closed by staff: the latest visit decides again.
        assert s.get(Workplace, wp_id).risk_level.value == "green"


def test_visit__update_of_a_workplace_outside_the_collectors_communes_is_kept_not_applied(
    db: Database,
) -> None:
    with db.transaction() as s:
        far = cases.create_workplace(s, name_latin="Far Away KTV", village_code="18020101",
                                     actor="test").id
    submit(db, visit(far, n_workers_est="40"), entity(far, 1))  # PE07 works in 180101, 180102
    with db.sessionmaker() as s:
        wp = s.get(Workplace, far)
        assert wp.version == 1 and wp.workers_est is None and wp.has_conflict is True
        (c,) = s.scalars(select(EntityConflict)).all()
        assert c.kind is ConflictKind.OUT_OF_AREA and c.applied_version is None
        assert "workers_est" in c.properties
        # The visit itself is kept and linked: only the entity update is held back.
        assert s.scalar(select(MonitoringVisit)).workplace_id == far


def test_visit__one_other_indicator__amber_no_referral(db: Database, wp_id: uuid.UUID) -> None:
    submit(db, visit(wp_id, pay_type="not_paid_yet"), entity(wp_id, 1))
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Referral)) == 0
        assert s.get(Workplace, wp_id).risk_level.value == "amber"
        assert "FL-1" in s.scalar(select(MonitoringVisit)).triggers


def test_visit__access_refused_twice__acc_amber(db: Database, wp_id: uuid.UUID) -> None:
    submit(db, visit(wp_id, access="refused", visit_date="2026-11-01"), entity(wp_id, 1))
    submit(db, visit(wp_id, access="refused", visit_date="2026-11-08"), entity(wp_id, 2))
    with db.sessionmaker() as s:
        latest = s.scalar(select(MonitoringVisit).order_by(MonitoringVisit.visit_date.desc()))
        assert "ACC" in latest.triggers
        assert s.get(Workplace, wp_id).risk_level.value == "amber"


def test_visit__sources_within_14_days_attach_to_open_referral(
    db: Database, wp_id: uuid.UUID
) -> None:
    submit(db, visit(wp_id, u18_suspected="yes", n_u18="2", visit_date="2026-11-01"),
           entity(wp_id, 1))
    submit(db, visit(wp_id, u18_suspected="unsure", n_u18="1", visit_date="2026-11-10"),
           entity(wp_id, 2), by="PE08")
    with db.sessionmaker() as s:
        (r,) = s.scalars(select(Referral)).all()
        assert len(s.scalars(select(ReferralSource).where(ReferralSource.referral_id == r.id)).all()) == 2
    # 29 days after the first: a new referral.
    submit(db, visit(wp_id, u18_suspected="yes", n_u18="1", visit_date="2026-11-30"),
           entity(wp_id, 3))
    # A different category about the same place never attaches.
    submit(db, visit(wp_id, locked_in="yes", visit_date="2026-11-11"), entity(wp_id, 4))
    with db.sessionmaker() as s:
        cats = sorted(r.category.value for r in s.scalars(select(Referral)))
        assert cats == ["child_protection", "child_protection", "forced_labour"]


def test_visit__closed_referral_is_not_reused(db: Database, wp_id: uuid.UUID) -> None:
    from server.db.models import ReferralStatus

    submit(db, visit(wp_id, u18_suspected="yes", visit_date="2026-11-01"), entity(wp_id, 1))
    with db.transaction() as s:
        s.scalar(select(Referral)).status = ReferralStatus.CLOSED
    submit(db, visit(wp_id, u18_suspected="yes", visit_date="2026-11-03"), entity(wp_id, 2))
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Referral)) == 2


def test_visit__edit_removes_u18__source_edited_and_visit_updated(
    db: Database, wp_id: uuid.UUID
) -> None:
    sid = submit(db, visit(wp_id, u18_suspected="yes", n_u18="1"), entity(wp_id, 1))
    with db.transaction() as s:
        from server.db.models import Submission

        edit_submission(s, s.get(Submission, sid), visit(wp_id, u18_suspected="no"),
                        entity=entity(wp_id, 1))
    assert process_submission(db, sid).ok
    with db.sessionmaker() as s:
        (r,) = s.scalars(select(Referral)).all()
        assert r.source_edited is True and r.status.value == "new"
        assert s.scalar(select(ReferralSource)).active is False
        assert s.scalar(select(MonitoringVisit)).u18_suspected == "no"
        assert s.scalar(select(func.count()).select_from(MonitoringVisit)) == 1
        # The edit carried the same entity properties: no second entity update.
        assert s.get(Workplace, wp_id).version == 2


def test_visit__new_workplace__unverified_with_duplicate_candidate(
    db: Database, wp_id: uuid.UUID
) -> None:
    submit(db, visit(None, workplace_in_list="no", wp_new_name_latin="Golden Star Karaoke",
                     wp_new_type="karaoke", wp_commune="180101", wp_village="18010101"))
    with db.sessionmaker() as s:
        new = s.scalar(select(Workplace).where(Workplace.id != wp_id))
        assert new.status == WorkplaceStatus.UNVERIFIED and new.village_code == "18010101"
        (pair,) = s.scalars(select(CandidatePair)).all()
        assert pair.entity_type == EntityType.WORKPLACE
        assert {pair.a_id, pair.b_id} == {wp_id, new.id}
        assert s.scalar(select(MonitoringVisit)).workplace_id == new.id


def test_visit__same_name_other_commune__no_candidate(db: Database, wp_id: uuid.UUID) -> None:
    # domain.md 4.5 example 15: the same common name in another commune is another place.
    submit(db, visit(None, workplace_in_list="no", wp_new_name_latin="Golden Star KTV",
                     wp_commune="180207", wp_village="18020701"))
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(CandidatePair)) == 0


def test_visit__risk_and_previous_access_follow_visit_date_whatever_the_arrival_order(
    db: Database, wp_id: uuid.UUID
) -> None:
    def risk() -> str:
        with db.sessionmaker() as s:
            return s.get(Workplace, wp_id).risk_level.value

    def triggers(sid: uuid.UUID) -> list[str]:
        with db.sessionmaker() as s:
            return s.scalar(select(MonitoringVisit).where(MonitoringVisit.submission_id == sid)).triggers

    submit(db, visit(wp_id, visit_date="2026-11-20", pay_type="not_paid_yet"))  # amber
    assert risk() == "amber"
    submit(db, visit(wp_id, visit_date="2026-11-10"))  # arrives late, older: not the latest
    assert risk() == "amber"
    submit(db, visit(wp_id, visit_date="2026-11-20"))  # same date, arrived after: the latest
    assert risk() == "green"
    refused = submit(db, visit(wp_id, visit_date="2026-11-05", access="refused"))
    assert "ACC" not in triggers(refused) and risk() == "green"
    # The visit before 2026-11-07 is the refused one of 2026-11-05, not the latest (2026-11-20).
    again = submit(db, visit(wp_id, visit_date="2026-11-07", access="refused"))
    assert "ACC" in triggers(again) and risk() == "green"
    latest = submit(db, visit(wp_id, visit_date="2026-11-25", access="refused"))
    assert "ACC" not in triggers(latest) and risk() == "amber"
