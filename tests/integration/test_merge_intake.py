"""member_intake merges: members, minors, automatic link, candidate pairs, merge/unmerge."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from server.db.models import (
    CandidatePair,
    CaseChange,
    EntityType,
    Member,
    MemberAlias,
    MemberPhone,
    MergeEvent,
    PairStatus,
    Referral,
    Submission,
    SubmissionState,
    Workplace,
    WorkplaceStatus,
)
from server.db.session import Database
from server.sync import review
from server.sync.worker import process_submission
from tests.support.submissions import add_submission, edit_submission

pytestmark = pytest.mark.usefixtures("published_forms")


def intake(**over: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": "2026-11-20T08:00:00.000+07:00",
        "today_calc": "2026-11-20",
        "collector": "PE07",
        "consent": "yes",
        "consent_referral": "yes",
        "dob_known": "no",
        "age_stated": "19",
        "age_source": "self_report",
        "age_years": "19",
        "is_minor": "no",
        "member_code": "7K3Q9M-X",
        "family_name_km": "ចាន់",
        "given_name_km": "សុខា",
        "name_latin": "Chan Sokha",
        "workplace_in_list": "no",
        "workplace_new_name": "Happy KTV",
        "workplace_new_type": "karaoke",
        "sector": "karaoke",
        "origin_province": "14",
        "origin_district": "1404",
        "origin_commune": "140401",
        "origin_village_text": "Mean Chey",  # 14040101, found by name in commune 140401
        "phone_owner": "own",
        "phone": "0970001234",
        "fl_screen": "none",
        "health_now": "no",
        "legal_now": "no",
    }
    answers.update(over)
    return {k: v for k, v in answers.items() if v is not None}


def submit(db: Database, answers: dict[str, Any], **kw: Any) -> uuid.UUID:
    with db.transaction() as s:
        sub = add_submission(s, "member_intake", answers, **kw)
        sid = sub.id
    result = process_submission(db, sid)
    assert result.ok, result.error
    return sid


def edit(db: Database, sid: uuid.UUID, answers: dict[str, Any]) -> None:
    with db.transaction() as s:
        edit_submission(s, s.get(Submission, sid), answers)
    result = process_submission(db, sid)
    assert result.ok, result.error


def count(s: Any, model: Any, *where: Any) -> int:
    return s.scalar(select(func.count()).select_from(model).where(*where))


def test_intake__adult_with_consent__creates_member_with_provenance(db: Database) -> None:
    entity_id = uuid.uuid4()
    sid = submit(db, intake(), entity={"id": str(entity_id)})
    with db.sessionmaker() as s:
        member = s.scalar(select(Member))
        assert member.id == entity_id  # the phone's offline entity id is kept
        assert member.member_code == "7K3Q9M-X"
        assert member.given_name_km == "សុខា"
        assert member.pe_code == "PE07"
        assert member.intake_date.isoformat() == "2026-11-20"
        assert [p.phone_e164 for p in member.phones] == ["+855970001234"]
        changes = s.scalars(select(CaseChange).where(CaseChange.entity_id == member.id)).all()
        assert {c.field for c in changes} >= {"member_code", "given_name_km", "origin_village_code"}
        assert all(c.submission_version_id is not None for c in changes)
        wp = s.get(Workplace, member.current_workplace_id)
        assert wp.status == WorkplaceStatus.UNVERIFIED
        sub = s.get(Submission, sid)
        assert sub.state == SubmissionState.MERGED
        assert sub.merged_at is not None and sub.merged_version_id is not None


def test_intake__merged_twice__changes_nothing(db: Database) -> None:
    sid = submit(db, intake(health_now="yes"))
    with db.sessionmaker() as s:
        before = (count(s, Member), count(s, CaseChange), count(s, Referral), count(s, Workplace))
    result = process_submission(db, sid)
    assert result.ok and result.outcome.skipped
    with db.sessionmaker() as s:
        after = (count(s, Member), count(s, CaseChange), count(s, Referral), count(s, Workplace))
    assert before == after


@pytest.mark.parametrize(
    "over",
    [
        {"age_stated": "16", "age_years": "16", "is_minor": "yes", "member_code": None},
        # The calculate said "no" but the age says 17: the server recomputes.
        {"age_stated": "17", "age_years": "17", "is_minor": "no"},
        # No age at all counts as a minor until staff verify (domain.md 1.6).
        {"age_stated": None, "age_years": None, "is_minor": None},
    ],
)
def test_intake__minor__no_member_but_urgent_restricted_child_case(
    db: Database, over: dict[str, Any]
) -> None:
    submit(db, intake(**over))
    with db.sessionmaker() as s:
        assert count(s, Member) == 0
        (referral,) = s.scalars(select(Referral)).all()
        assert referral.category.value == "child_protection"
        assert referral.priority.value == "urgent"
        assert referral.restricted is True
        assert referral.member_id is None
        assert referral.workplace_id is not None  # linked to her (candidate) workplace
        assert "U18" in referral.triggers


def test_intake__identical_member_code__automatic_link_logged(db: Database) -> None:
    submit(db, intake())
    second_entity = uuid.uuid4()
    submit(db, intake(name_latin="Sokha Chan", phone="0970001234", nicknames="Kha"),
           entity={"id": str(second_entity)})
    with db.sessionmaker() as s:
        (member,) = s.scalars(select(Member)).all()
        (event,) = s.scalars(select(MergeEvent)).all()
        assert event.kind == "auto_member_code" and event.survivor_id == member.id
        values = {a.value for a in s.scalars(select(MemberAlias).where(MemberAlias.member_id == member.id))}
        assert {"Sokha Chan", "Kha"} <= values
        # Collect's offline copy of the second intake is reported deleted.
        from server.sync.lists import entity_integrity

        assert entity_integrity(s, "members", [str(second_entity), str(member.id)]) == {
            str(second_entity): True,
            str(member.id): False,
        }


def _member_state(s: Any, member_id: uuid.UUID) -> dict[str, Any]:
    m = s.get(Member, member_id)
    s.refresh(m)
    return {
        "row": review.row_snapshot(m),
        "aliases": sorted((a.kind.value, a.value) for a in s.scalars(
            select(MemberAlias).where(MemberAlias.member_id == member_id))),
        "phones": sorted(p.phone_e164 for p in s.scalars(
            select(MemberPhone).where(MemberPhone.member_id == member_id))),
        "referrals": sorted(str(r) for r in s.scalars(
            select(Referral.id).where(Referral.member_id == member_id))),
    }


def test_intake__same_woman_two_spellings__pair_merge_unmerge_restores_exactly(
    db: Database,
) -> None:
    # domain.md 4.5 example 1: "Chan Sokha" (PE07) and "Sokhar Chan", nickname "Kha" (PE11).
    submit(db, intake(health_now="yes"))
    submit(db, intake(
        collector="PE11", member_code="9P2T4W-K", family_name_km=None, given_name_km=None,
        name_latin="Sokhar Chan", nicknames="Kha", age_stated="20", age_years="20",
        age_source="collector_estimate", today_calc="2025-01-22",
        start="2025-01-22T09:00:00.000+07:00", phone="0123456789", legal_now="yes",
        workplace_new_name="Happy Karaoke",
    ))
    with db.sessionmaker() as s:
        (pair,) = s.scalars(select(CandidatePair).where(
            CandidatePair.entity_type == EntityType.MEMBER)).all()
        assert pair.status == PairStatus.PENDING and pair.evidence["codes"]
        assert count(s, Member) == 2  # never merged automatically
        ids = [pair.a_id, pair.b_id]
        before = {i: _member_state(s, i) for i in ids}
        pair_id = pair.id

    with db.transaction() as s:
        event = review.merge_members(s, pair_id, "staff:case1")
        survivor_id, loser_id, event_id = event.survivor_id, event.loser_id, event.id
    with db.sessionmaker() as s:
        survivor, loser = s.get(Member, survivor_id), s.get(Member, loser_id)
        assert survivor.member_code == "7K3Q9M-X"  # the oldest code survives
        assert loser.merged_into_member_id == survivor.id
        aliases = {a.value for a in survivor.aliases}
        assert {"Sokhar Chan", "Kha"} <= aliases
        assert {p.phone_e164 for p in survivor.phones} == {"+855970001234", "+855123456789"}
        assert count(s, Referral, Referral.member_id == loser_id) == 0
        assert count(s, Referral, Referral.member_id == survivor_id) == 2
        assert s.get(CandidatePair, pair_id).status == PairStatus.MERGED

    with db.transaction() as s:
        review.unmerge(s, event_id, "staff:case1")
    with db.sessionmaker() as s:
        after = {i: _member_state(s, i) for i in ids}
        assert after == before
        assert s.get(CandidatePair, pair_id).status == PairStatus.PENDING


def test_reject_pair__marks_rejected(db: Database) -> None:
    submit(db, intake())
    submit(db, intake(member_code="9P2T4W-K", name_latin="Sokhar Chan", family_name_km=None,
                      given_name_km=None, collector="PE11"))
    member_pairs = select(CandidatePair).where(CandidatePair.entity_type == EntityType.MEMBER)
    with db.transaction() as s:
        pair_id = s.scalar(member_pairs).id
        review.reject_pair(s, pair_id, "staff:case1")
    with db.sessionmaker() as s:
        assert s.get(CandidatePair, pair_id).status == PairStatus.REJECTED
        with pytest.raises(review.PairAlreadyDecided):
            review.reject_pair(s, pair_id, "staff:case1")


def test_intake__edit_removes_trigger__referral_source_edited_not_closed(db: Database) -> None:
    sid = submit(db, intake(health_now="yes", legal_now="yes"))
    edit(db, sid, intake(health_now="no", legal_now="yes", name_latin="Chan Sokha Pov"))
    with db.sessionmaker() as s:
        referrals = {r.category.value: r for r in s.scalars(select(Referral))}
        assert set(referrals) == {"health", "legal"}
        assert referrals["health"].source_edited is True
        assert referrals["health"].status.value == "new"  # never closed automatically
        assert referrals["legal"].source_edited is False
        (member,) = s.scalars(select(Member)).all()
        assert member.name_latin_raw == "Chan Sokha Pov"  # the edit re-merged as a diff
        assert count(s, Member) == 1
