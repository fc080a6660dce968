"""Indicators about people and training: 1 network members, 2 peer educators trained,
3 gatekeepers, 4 awareness courses, 5 participants, 16 meetings (domain.md 5)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from server.db.models import (
    Attendance,
    CaseChange,
    Course,
    CourseCategory,
    EntityType,
    Gatekeeper,
    Meeting,
    MeetingAttendance,
    Member,
    MemberSector,
    MemberStatus,
    PeerEducator,
    TrainingSession,
    Workplace,
)
from server.reports import scope
from server.reports.context import ReportContext
from server.reports.figures import Indicator, report_group

NOT_IN_NETWORK = {MemberStatus.WITHDRAWN.value, MemberStatus.LEFT_SECTOR.value, MemberStatus.MERGED.value}


def network_members(ctx: ReportContext) -> Indicator:
    """Counted by the database, grouped by status, sector and commune; only the members whose
    status or sector changed after the period end are read one by one, from their history."""
    end = ctx.period.end
    joined = func.coalesce(Member.joined_date, Member.intake_date)
    later = select(CaseChange.entity_id).where(
        CaseChange.entity_type == EntityType.MEMBER, CaseChange.field.in_(("status", "sector")),
        CaseChange.at >= scope.end_of_day(end), CaseChange.old_value.is_not(None),
    ).union(
        # An intake dated after the period may have changed her sector since (sector history).
        select(MemberSector.member_id).where(MemberSector.since > end),
        select(Member.merged_into_member_id).join(MemberSector, MemberSector.member_id == Member.id)
        .where(MemberSector.since > end, Member.merged_into_member_id.is_not(None)),
    )
    counted = and_(
        Member.merged_into_member_id.is_(None),
        or_(joined <= end, and_(joined.is_(None), Member.created_at < scope.end_of_day(end))),
        or_(Member.source_submission_id.is_(None),
            ctx.counted(Member.source_submission_id)),
    )
    tally: Counter[tuple[str | None, str | None, str | None]] = Counter()
    for status, sector, commune, n in ctx.session.execute(
        select(Member.status, Member.sector, Workplace.commune_code, func.count())
        .outerjoin(Workplace, Workplace.id == Member.current_workplace_id)
        .where(counted, Member.id.not_in(later))
        .group_by(Member.status, Member.sector, Workplace.commune_code)
    ):
        tally[(str(status), sector, commune)] += n
    changed = ctx.session.execute(
        select(Member.id, Workplace.commune_code)
        .outerjoin(Workplace, Workplace.id == Member.current_workplace_id)
        .where(counted, Member.id.in_(later))
    ).all()
    status = scope.member_values_at(ctx.session, "status", [(m, end) for m, _ in changed])
    sector = scope.member_values_at(ctx.session, "sector", [(m, end) for m, _ in changed])
    for mid, commune in changed:
        tally[(status[(mid, end)], sector[(mid, end)], commune)] += 1
    kept = {k: n for k, n in tally.items() if k[0] and k[0] not in NOT_IN_NETWORK}
    by: dict[str, Counter[str]] = {"report_group": Counter(), "status": Counter(), "commune": Counter()}
    for (st, sec, commune), n in kept.items():
        by["report_group"][report_group(sec)] += n
        by["status"][st or "unknown"] += n
        by["commune"][commune or "unknown"] += n
    ind = Indicator(1)
    ind.breakdown("network members at period end", by, sum(kept.values()))
    return ind


def _sessions(ctx: ReportContext, categories: tuple[CourseCategory, ...], start: date | None, end: date,
              ) -> list[Any]:
    stmt = (
        select(TrainingSession.id, TrainingSession.session_date, TrainingSession.target_group,
               TrainingSession.commune_code, TrainingSession.anonymous_headcount, Course.category)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(Course.category.in_(categories), TrainingSession.session_date <= end)
    )
    if start is not None:
        stmt = stmt.where(TrainingSession.session_date >= start)
    return list(ctx.session.execute(stmt).all())


def _pe_attendance(ctx: ReportContext, session_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(session id, peer educator id): PEs recorded as PEs, or as the member a PE is."""
    if not session_ids:
        return []
    by_member = dict(ctx.session.execute(
        select(PeerEducator.member_id, PeerEducator.id).where(PeerEducator.member_id.is_not(None))
    ).all())
    out = []
    for sid, pe_id, member_id in ctx.session.execute(
        select(Attendance.session_id, Attendance.peer_educator_id, Attendance.member_id)
        .where(Attendance.session_id.in_(session_ids))
    ):
        if pe_id is None and member_id is not None:
            pe_id = by_member.get(ctx.member(member_id) or member_id)
        if pe_id is not None:
            out.append((sid, pe_id))
    return out


def peer_educators_trained(ctx: ReportContext) -> Indicator:
    p = ctx.period
    initial = _sessions(ctx, (CourseCategory.PE_INITIAL,), None, p.end)
    info = {s.id: s for s in initial}
    first: dict[uuid.UUID, date] = {}
    commune: dict[uuid.UUID, str] = {}
    for sid, pe in sorted(_pe_attendance(ctx, list(info)), key=lambda x: info[x[0]].session_date):
        if pe not in first:
            first[pe] = info[sid].session_date
            commune[pe] = info[sid].commune_code or "unknown"
    ind = Indicator(2)
    ind.breakdown("peer educators trained (initial training by period end)",
                  {"commune": Counter(commune.values())}, len(first))
    in_period = [pe for pe, d in first.items() if d >= p.start]
    ind.breakdown("peer educators trained in the period",
                  {"commune": Counter(commune[pe] for pe in in_period)}, len(in_period))
    refresher = _sessions(ctx, (CourseCategory.PE_REFRESHER,), p.start, p.end)
    ind.breakdown("refresher sessions", {"commune": Counter(s.commune_code or "unknown" for s in refresher)},
                  len(refresher))
    ind.add("peer educators at refresher sessions", "total",
            len({pe for _, pe in _pe_attendance(ctx, [s.id for s in refresher])}))
    return ind


def gatekeepers(ctx: ReportContext) -> Indicator:
    end = ctx.period.end
    # Staff record gatekeepers after the fact: one recorded is in the network unless her
    # sensitisation is dated after the period.
    people = ctx.session.execute(
        select(Gatekeeper.id, Gatekeeper.organisation_type, Gatekeeper.commune_code,
               Gatekeeper.sensitised_date)
        .where(or_(Gatekeeper.sensitised_date.is_(None), Gatekeeper.sensitised_date <= end))
    ).all()
    sessions = [s.id for s in _sessions(ctx, (CourseCategory.GATEKEEPER_SENSITISATION,), None, end)]
    attended = set(ctx.session.scalars(
        select(Attendance.gatekeeper_id).where(Attendance.session_id.in_(sessions),
                                               Attendance.gatekeeper_id.is_not(None))
    )) if sessions else set()
    sensitised = [g for g in people if g.id in attended or (g.sensitised_date and g.sensitised_date <= end)]
    ind = Indicator(3)
    for label, rows in (("gatekeepers in the network", people), ("gatekeepers sensitised", sensitised)):
        ind.breakdown(label, {
            "organisation_type": Counter(str(g.organisation_type) for g in rows),
            "commune": Counter(g.commune_code or "unknown" for g in rows),
        }, len(rows))
    return ind


def awareness_courses(ctx: ReportContext) -> Indicator:
    rows = _sessions(ctx, (CourseCategory.AWARENESS,), ctx.period.start, ctx.period.end)
    ind = Indicator(4)
    ind.breakdown("awareness sessions held", {
        "target_group": Counter(str(s.target_group) for s in rows),
        "commune": Counter(s.commune_code or "unknown" for s in rows),
    }, len(rows))
    return ind


def _keys(s: Any) -> tuple[tuple[str, str], ...]:
    """The slices a session counts in: its target group, its commune, and the total ("", "")."""
    return (("target_group", str(s.target_group)), ("commune", s.commune_code or "unknown"), ("", ""))


def participants(ctx: ReportContext) -> Indicator:
    p = ctx.period
    rows = _sessions(ctx, (CourseCategory.AWARENESS,), p.start, p.end)
    heads: Counter[tuple[str, str]] = Counter()
    for s in rows:
        for key in _keys(s):
            heads[key] += s.anonymous_headcount
    # A merged-away member counts as her survivor; one created by an excluded submission, not at all.
    counted_member = case(
        (or_(Member.source_submission_id.is_(None),
             ctx.counted(Member.source_submission_id)),
         func.coalesce(Member.merged_into_member_id, Attendance.member_id)),
        else_=None,
    )
    # One pass: attendances grouped by target group, commune and counted member; the distinct
    # members of each slice are then unions of these groups.
    stmt = (
        select(TrainingSession.target_group, TrainingSession.commune_code, counted_member, func.count())
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .outerjoin(Member, Member.id == Attendance.member_id)
        .where(Course.category == CourseCategory.AWARENESS,
               TrainingSession.session_date.between(p.start, p.end))
        .group_by(TrainingSession.target_group, TrainingSession.commune_code, counted_member)
    )
    distinct: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    attendances: Counter[tuple[str, str]] = Counter()
    for group, commune, member, n in ctx.session.execute(stmt):
        for key in (("target_group", str(group or "unknown")), ("commune", commune or "unknown"), ("", "")):
            attendances[key] += n
            if member is not None:
                distinct[key].add(member)
    members = Counter({key: len(ids) for key, ids in distinct.items()})
    ind = Indicator(5)
    keys = set(heads) | set(members)
    for label, values in (
        ("participants: distinct identified members + anonymous headcount",
         {k: members[k] + heads[k] for k in keys}),
        ("attendances: identified attendance rows + anonymous headcount",
         {k: attendances[k] + heads[k] for k in keys}),
    ):
        by: dict[str, dict[str, int]] = {"target_group": {}, "commune": {}}
        for (dim, value), n in values.items():
            if dim:
                by[dim][value] = n
        ind.breakdown(label, by, values.get(("", ""), 0))
    return ind


def meetings(ctx: ReportContext) -> Indicator:
    p = ctx.period
    rows = ctx.session.execute(
        select(Meeting.id, Meeting.meeting_type, Meeting.commune_code, Meeting.anonymous_headcount)
        .where(Meeting.meeting_date.between(p.start, p.end))
    ).all()
    ids = [m.id for m in rows]
    rows_per_meeting = Counter(ctx.session.scalars(
        select(MeetingAttendance.meeting_id).where(MeetingAttendance.meeting_id.in_(ids))
    )) if ids else Counter()
    ind = Indicator(16)
    ind.breakdown("meetings held", {
        "meeting_type": Counter(str(m.meeting_type) for m in rows),
        "commune": Counter(m.commune_code or "unknown" for m in rows),
    }, len(rows))
    attendance: Counter[str] = Counter()
    for m in rows:
        attendance[str(m.meeting_type)] += rows_per_meeting[m.id] + m.anonymous_headcount
    ind.breakdown("meeting attendances (identified + headcount)", {"meeting_type": attendance},
                  sum(attendance.values()))
    return ind
