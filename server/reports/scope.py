"""What the report counts (domain.md 5, general rules): canonical records only, no rejected
submissions, no submissions from training accounts, event dates; and the history lookups
(a member's status or sector at a date) the indicators need."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from server.db.models import (
    CaseChange,
    Collector,
    EntityType,
    Member,
    MemberSector,
    PossibleDuplicateVisit,
    ReviewState,
    Submission,
    SubmissionVersion,
    Workplace,
)
from server.db.models.field_duplicates import HELD


def excluded_submissions() -> Select[tuple[uuid.UUID]]:
    """Submissions that never count: rejected by staff, sent by a training account, or the
    later of a possible duplicate visit staff have not called "different" (counted once until
    staff decide; issue 9 item 6)."""
    training = select(SubmissionVersion.submission_id).where(
        SubmissionVersion.submitted_by_id.in_(select(Collector.id).where(Collector.training.is_(True)))
    )
    held = select(PossibleDuplicateVisit.second_submission_id).where(
        PossibleDuplicateVisit.status.in_(HELD)
    )
    return select(Submission.id).where(
        or_(Submission.review_state == ReviewState.REJECTED, Submission.id.in_(training),
            Submission.id.in_(held))
    )


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def canonical_members(session: Session) -> dict[uuid.UUID, uuid.UUID]:
    """Merged-away member id -> its survivor (following chains). Others map to themselves."""
    links = dict(session.execute(
        select(Member.id, Member.merged_into_member_id).where(Member.merged_into_member_id.is_not(None))
    ).all())
    out: dict[uuid.UUID, uuid.UUID] = {}
    for loser in links:
        target = links[loser]
        for _ in range(20):
            if target not in links:
                break
            target = links[target]
        out[loser] = target
    return out


def canonical_workplaces(session: Session) -> dict[uuid.UUID, uuid.UUID]:
    links = dict(session.execute(
        select(Workplace.id, Workplace.merged_into_workplace_id)
        .where(Workplace.merged_into_workplace_id.is_not(None))
    ).all())
    out: dict[uuid.UUID, uuid.UUID] = {}
    for loser, target in links.items():
        for _ in range(20):
            if target not in links:
                break
            target = links[target]
        out[loser] = target
    return out


def sectors_at(
    session: Session, wanted: Iterable[tuple[uuid.UUID, date]]
) -> dict[tuple[uuid.UUID, date], str | None] | None:
    """A member's sector on each given day from her sector history (member_sectors, dated by
    the intakes' event dates; a record merged into her brings its history): the latest stated
    on or before the day, else the first one stated (she was recorded after the event). None
    for members with no history (the caller falls back to the change log)."""
    wanted = list(wanted)
    ids = {mid for mid, _ in wanted}
    if not ids:
        return {}
    owner = dict(session.execute(
        select(Member.id, Member.merged_into_member_id).where(Member.merged_into_member_id.in_(ids))
    ).all())
    history: dict[uuid.UUID, list[tuple[date, str]]] = defaultdict(list)
    for mid, since, sector in session.execute(
        select(MemberSector.member_id, MemberSector.since, MemberSector.sector)
        .where(MemberSector.member_id.in_(ids | set(owner)))
        .order_by(MemberSector.since, MemberSector.id)
    ):
        history[owner.get(mid, mid)].append((since, sector))
    out: dict[tuple[uuid.UUID, date], str | None] = {}
    for mid, day in wanted:
        rows = sorted(history.get(mid, ()), key=lambda r: r[0])
        if not rows:
            return None
        before = [sector for since, sector in rows if since <= day]
        out[(mid, day)] = before[-1] if before else rows[0][1]
    return out


def member_values_at(
    session: Session, field: str, wanted: Iterable[tuple[uuid.UUID, date]]
) -> dict[tuple[uuid.UUID, date], str | None]:
    """The value a member's `field` (status, sector) had at the end of each given day. Sector:
    from her sector history by event date (:func:`sectors_at`). Otherwise from the change
    history: the old value of the first change recorded after that day, else the current
    value (recorded when the change reached the server, receipt time)."""
    wanted = list(wanted)
    if field == "sector":
        with_history = _with_sector_history(session, {mid for mid, _ in wanted})
        known = sectors_at(session, [w for w in wanted if w[0] in with_history]) or {}
        rest = [w for w in wanted if w[0] not in with_history]
        return {**known, **(_changed_values_at(session, field, rest) if rest else {})}
    return _changed_values_at(session, field, wanted)


def _with_sector_history(session: Session, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    direct = set(session.scalars(select(MemberSector.member_id).where(MemberSector.member_id.in_(ids))))
    via_merged = set(session.scalars(
        select(Member.merged_into_member_id).join(MemberSector, MemberSector.member_id == Member.id)
        .where(Member.merged_into_member_id.in_(ids))))
    return direct | via_merged


def _changed_values_at(
    session: Session, field: str, wanted: list[tuple[uuid.UUID, date]]
) -> dict[tuple[uuid.UUID, date], str | None]:
    ids = {mid for mid, _ in wanted}
    if not ids:
        return {}
    current = dict(session.execute(
        select(Member.id, getattr(Member, field)).where(Member.id.in_(ids))
    ).all())
    history: dict[uuid.UUID, list[tuple[datetime, str | None]]] = defaultdict(list)
    # Changes from nothing (the record being created) are skipped: a record sent days after the
    # event still existed at the event (its dates say so), receipt time is not its birth.
    for mid, at, old in session.execute(
        select(CaseChange.entity_id, CaseChange.at, CaseChange.old_value)
        .where(CaseChange.entity_type == EntityType.MEMBER, CaseChange.field == field,
               CaseChange.entity_id.in_(ids), CaseChange.old_value.is_not(None))
        .order_by(CaseChange.at, CaseChange.id)
    ):
        history[mid].append((at, old))
    out: dict[tuple[uuid.UUID, date], str | None] = {}
    for mid, day in wanted:
        limit = end_of_day(day)
        later = next((old for at, old in history.get(mid, ()) if at >= limit), _NONE)
        value: Any = current.get(mid) if later is _NONE else later
        out[(mid, day)] = None if value is None else str(value)
    return out


_NONE: Any = object()


def in_period(column: Any, start: date, end: date) -> Any:
    return column.between(start, end)


def commune_of_village(village_code: str | None) -> str | None:
    return village_code[:6] if village_code and len(village_code) >= 6 else None
