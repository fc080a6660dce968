"""Read queries behind the staff API and pages. No Flask; role filters come from accounts.access.

Functions return ORM rows (or small dataclasses); what of them a role may see is decided by the
caller with ``server.accounts.access`` and enforced by the schema it dumps with.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from server.accounts import access
from server.casework.listing import (  # noqa: F401  (the agreed names live here too)
    Listing,
    Page,
    SubmissionFilter,
    SubmissionRow,
    list_submissions,
)
from server.casework.referrals import URGENT_TARGET, can_take
from server.db.models import Form, StaffRole, StaffUser, Submission, SubmissionVersion, utcnow
from server.db.models.cases import (
    CandidatePair,
    CaseChange,
    EntityConflict,
    EntityType,
    Member,
    MergeEvent,
    MonitoringVisit,
    Priority,
    Referral,
    ReferralCategory,
    ReferralSource,
    ReferralStatus,
    VillageReport,
    Workplace,
)

T = TypeVar("T")


def _paged(session: Session, stmt: Select[tuple[T]], page: Page) -> tuple[list[T], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.offset(page.offset).limit(page.limit)))
    return items, total


def _visible_referrals(stmt: Select[Any], role: StaffRole) -> Select[Any]:
    if access.sees_restricted_referrals(role):
        return stmt
    return stmt.where(
        Referral.restricted.is_(False), Referral.category != ReferralCategory.CHILD_PROTECTION
    )


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# --- submissions ------------------------------------------------------------------------------
def get_submission(session: Session, instance_id: str) -> Submission | None:
    """By the instanceID of any of its versions (the root one included)."""
    return session.scalar(
        select(Submission)
        .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
        .where(or_(SubmissionVersion.instance_id == instance_id, Submission.root_instance_id == instance_id))
        .order_by(Submission.created_at)
        .limit(1)
    )


def form_ids(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Form.id, Form.xml_form_id).where(Form.id.in_(set(ids)))).all())


@dataclass(frozen=True)
class CaseRef:
    """A case-database row a submission created or updated."""

    entity_type: str
    id: uuid.UUID
    code: str | None
    action: str  # created | updated
    category: str | None = None


def submission_cases(session: Session, submission: Submission, role: StaffRole) -> list[CaseRef]:
    version_ids = [v.id for v in submission.versions]
    changed: dict[tuple[str, uuid.UUID], None] = {}
    if version_ids:
        for etype, eid in session.execute(
            select(CaseChange.entity_type, CaseChange.entity_id)
            .where(CaseChange.submission_version_id.in_(version_ids))
            .distinct()
        ):
            changed[(str(etype), eid)] = None
    refs: list[CaseRef] = []
    seen: set[tuple[str, uuid.UUID]] = set()

    def add(etype: str, eid: uuid.UUID, code: str | None, created: bool, category: str | None = None) -> None:
        seen.add((etype, eid))
        refs.append(CaseRef(etype, eid, code, "created" if created else "updated", category))

    sid = submission.id
    for m in session.scalars(
        select(Member).where(
            or_(
                Member.source_submission_id == sid,
                Member.id.in_([eid for (t, eid) in changed if t == EntityType.MEMBER]),
            )
        )
    ):
        add(EntityType.MEMBER, m.id, m.member_code, m.source_submission_id == sid)
    for w in session.scalars(
        select(Workplace).where(
            or_(
                Workplace.source_submission_id == sid,
                Workplace.id.in_([eid for (t, eid) in changed if t == EntityType.WORKPLACE]),
            )
        )
    ):
        add(EntityType.WORKPLACE, w.id, w.workplace_code, w.source_submission_id == sid)
    referral_stmt = _visible_referrals(
        select(Referral)
        .where(Referral.id.in_(select(ReferralSource.referral_id).where(ReferralSource.submission_id == sid)))
        .order_by(Referral.created_at),
        role,
    )
    for referral in session.scalars(referral_stmt):
        first_source = session.scalar(
            select(ReferralSource.submission_id)
            .where(ReferralSource.referral_id == referral.id)
            .order_by(ReferralSource.id)
            .limit(1)
        )
        add(EntityType.REFERRAL, referral.id, referral.case_code, first_source == sid, str(referral.category))
    for visit in session.scalars(select(MonitoringVisit).where(MonitoringVisit.submission_id == sid)):
        add(EntityType.VISIT, visit.id, None, True)
    for report in session.scalars(select(VillageReport).where(VillageReport.submission_id == sid)):
        add(EntityType.VILLAGE_REPORT, report.id, f"{report.village_code}/{report.period_ym}", True)
    return refs


# --- members ----------------------------------------------------------------------------------
def list_members(
    session: Session, page: Page, status: str | None = None, code: str | None = None,
    include_merged: bool = False,
) -> tuple[list[Member], int]:
    stmt = select(Member)
    if status:
        stmt = stmt.where(Member.status == status)
    if code:
        stmt = stmt.where(Member.member_code == code)
    if not include_merged:
        stmt = stmt.where(Member.merged_into_member_id.is_(None))
    stmt = stmt.options(selectinload(Member.aliases), selectinload(Member.phones)).order_by(
        Member.member_code
    )
    return _paged(session, stmt, page)


def get_member(session: Session, member_id: str) -> Member | None:
    mid = as_uuid(member_id)
    return session.get(Member, mid) if mid else None


def member_submissions(session: Session, member: Member) -> list[Submission]:
    """Submissions that created the member or set any of its fields (provenance)."""
    via_changes = (
        select(SubmissionVersion.submission_id)
        .join(CaseChange, CaseChange.submission_version_id == SubmissionVersion.id)
        .where(CaseChange.entity_type == EntityType.MEMBER, CaseChange.entity_id == member.id)
    )
    return list(
        session.scalars(
            select(Submission)
            .where(or_(Submission.id == member.source_submission_id, Submission.id.in_(via_changes)))
            .options(selectinload(Submission.versions))
            .order_by(Submission.created_at)
        )
    )


@dataclass(frozen=True)
class Change:
    field: str
    old_value: str | None
    new_value: str | None
    instance_id: str | None
    merge_event_id: uuid.UUID | None
    actor: str
    at: Any


def provenance(session: Session, entity_type: EntityType, entity_id: uuid.UUID) -> list[Change]:
    rows = session.execute(
        select(CaseChange, SubmissionVersion.instance_id)
        .outerjoin(SubmissionVersion, SubmissionVersion.id == CaseChange.submission_version_id)
        .where(CaseChange.entity_type == entity_type, CaseChange.entity_id == entity_id)
        .order_by(CaseChange.at, CaseChange.id)
    )
    return [
        Change(c.field, c.old_value, c.new_value, iid, c.merge_event_id, c.actor, c.at) for c, iid in rows
    ]


def merged_from(session: Session, member: Member) -> list[uuid.UUID]:
    return list(session.scalars(select(Member.id).where(Member.merged_into_member_id == member.id)))


def member_merge_events(session: Session, member: Member) -> list[MergeEvent]:
    return list(
        session.scalars(
            select(MergeEvent)
            .where(
                MergeEvent.entity_type == EntityType.MEMBER,
                or_(MergeEvent.survivor_id == member.id, MergeEvent.loser_id == member.id),
            )
            .order_by(MergeEvent.created_at)
        )
    )


# --- workplaces -------------------------------------------------------------------------------
def list_workplaces(
    session: Session, page: Page, status: str | None = None, village: str | None = None,
    commune: str | None = None, include_merged: bool = False,
) -> tuple[list[Workplace], int]:
    stmt = select(Workplace)
    if status:
        stmt = stmt.where(Workplace.status == status)
    if village:
        stmt = stmt.where(Workplace.village_code == village)
    if commune:
        stmt = stmt.where(Workplace.commune_code == commune)
    if not include_merged:
        stmt = stmt.where(Workplace.merged_into_workplace_id.is_(None))
    stmt = stmt.options(selectinload(Workplace.names)).order_by(Workplace.workplace_code)
    return _paged(session, stmt, page)


def get_workplace(session: Session, workplace_id: str) -> Workplace | None:
    wid = as_uuid(workplace_id)
    return session.get(Workplace, wid) if wid else None


def workplace_referrals(session: Session, workplace: Workplace, role: StaffRole) -> list[Referral]:
    stmt = select(Referral).where(Referral.workplace_id == workplace.id).order_by(Referral.created_at)
    return list(session.scalars(_visible_referrals(stmt, role)))


def workplace_visits(session: Session, workplace: Workplace, limit: int = 50) -> list[MonitoringVisit]:
    return list(
        session.scalars(
            select(MonitoringVisit)
            .where(MonitoringVisit.workplace_id == workplace.id)
            .order_by(MonitoringVisit.visit_date.desc())
            .limit(limit)
        )
    )


def entity_conflicts(session: Session, entity_type: EntityType, entity_id: uuid.UUID) -> list[EntityConflict]:
    """Updates made from an older version than the server's (soft or hard), newest first."""
    return list(
        session.scalars(
            select(EntityConflict)
            .where(EntityConflict.entity_type == entity_type, EntityConflict.entity_id == entity_id)
            .order_by(EntityConflict.created_at.desc(), EntityConflict.id.desc())
        )
    )


# --- duplicates -------------------------------------------------------------------------------
def list_pairs(
    session: Session, page: Page, status: str | None = "pending", entity_type: str | None = None,
    cluster_id: uuid.UUID | None = None,
) -> tuple[list[CandidatePair], int]:
    """A page of pairs, best score first; their records are loaded with them (one query per
    kind of record for the page, not a few per pair), so pair_records answers from the session."""
    stmt = select(CandidatePair)
    if status:
        stmt = stmt.where(CandidatePair.status == status)
    if entity_type:
        stmt = stmt.where(CandidatePair.entity_type == entity_type)
    if cluster_id:
        stmt = stmt.where(CandidatePair.cluster_id == cluster_id)
    stmt = stmt.order_by(CandidatePair.score.desc(), CandidatePair.created_at, CandidatePair.id)
    pairs, total = _paged(session, stmt, page)
    _load_pair_records(session, pairs)
    return pairs, total


def _load_pair_records(session: Session, pairs: list[CandidatePair]) -> None:
    """Both records of every pair into the session; workplaces with their names (their display
    name is made from them), members without their lists (casework.record_lists reads those
    for the API). The session only holds weak references: the rows are kept in
    ``session.info`` for its life (one request), or pair_records would load them one by one."""
    kept = session.info.setdefault("pair_records", [])
    for model, entity_type, options in (
        (Member, EntityType.MEMBER, ()),
        (Workplace, EntityType.WORKPLACE, (selectinload(Workplace.names),)),
    ):
        ids = {i for p in pairs if p.entity_type == entity_type for i in (p.a_id, p.b_id)}
        if ids:
            kept += session.scalars(select(model).where(model.id.in_(ids)).options(*options)).all()


def get_pair(session: Session, pair_id: str) -> CandidatePair | None:
    pid = as_uuid(pair_id)
    return session.get(CandidatePair, pid) if pid else None


def pair_records(session: Session, pair: CandidatePair) -> tuple[Any, Any]:
    model: type[Member] | type[Workplace] = Member if pair.entity_type == EntityType.MEMBER else Workplace
    return session.get(model, pair.a_id), session.get(model, pair.b_id)


# --- referrals --------------------------------------------------------------------------------
def list_referrals(
    session: Session, page: Page, role: StaffRole, category: str | None = None,
    status: str | None = None, priority: str | None = None, assigned_to: int | None = None,
    overdue: bool | None = None, now: datetime | None = None,
) -> tuple[list[Referral], int]:
    """Referrals `role` may see; urgent ones first, then oldest first (the work order)."""
    stmt = select(Referral)
    if category:
        stmt = stmt.where(Referral.category == category)
    if status:
        stmt = stmt.where(Referral.status == status)
    if priority:
        stmt = stmt.where(Referral.priority == priority)
    if assigned_to is not None:
        stmt = stmt.where(Referral.assigned_to_id == assigned_to)
    if overdue is not None:
        late = overdue_clause(now or utcnow())
        stmt = stmt.where(late if overdue else ~late)
    urgent_first = case((Referral.priority == Priority.URGENT, 0), else_=1)
    closed_last = case((Referral.status == ReferralStatus.CLOSED, 1), else_=0)
    stmt = _visible_referrals(stmt, role).order_by(
        closed_last, urgent_first, Referral.created_at, Referral.id
    )
    return _paged(session, stmt, page)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Urgent, still new, opened more than 24 hours ago (casework.referrals.referral_timing)."""
    return and_(Referral.priority == Priority.URGENT, Referral.status == ReferralStatus.NEW,
                Referral.created_at < now - URGENT_TARGET)


def staff_choices(session: Session, referral: Referral | None = None) -> list[StaffUser]:
    """Active case workers a referral can be assigned to (child-protection cases: that role only)."""
    users = session.scalars(select(StaffUser).where(StaffUser.revoked_at.is_(None),
                                                    StaffUser.role.in_(access.CASE_ROLES))
                            .order_by(StaffUser.name))
    return [u for u in users if referral is None or can_take(u, referral)]


def get_referral(session: Session, referral_id: str, role: StaffRole) -> Referral | None:
    rid = as_uuid(referral_id)
    if rid is None:
        return None
    return session.scalar(_visible_referrals(select(Referral).where(Referral.id == rid), role))
