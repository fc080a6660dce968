"""What names a member across the case database (issue 9 item 8): every monitoring visit that
names her and every referral about her or raised by such a visit, including those of records
merged into her. Shown on her page and in the API; the caller audits the read."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from server.casework.queries import _visible_referrals
from server.db.models import MemberSector, StaffRole
from server.db.models.cases import Member, MonitoringVisit, Referral, ReferralSource, VisitMember


def _member_and_merged(member: Member) -> Select[tuple[uuid.UUID]]:
    """Her id and the ids of records merged into her (their history is hers)."""
    return select(Member.id).where(or_(Member.id == member.id, Member.merged_into_member_id == member.id))


def _visits_naming(member: Member) -> Select[tuple[uuid.UUID]]:
    return select(VisitMember.visit_id).where(VisitMember.member_id.in_(_member_and_merged(member)))


def member_visits(session: Session, member: Member) -> list[MonitoringVisit]:
    """Every monitoring visit that names her (members_affected), newest first (issue 9 item 8)."""
    return list(session.scalars(
        select(MonitoringVisit).where(MonitoringVisit.id.in_(_visits_naming(member)))
        .order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.created_at.desc())
    ))


def member_referrals(session: Session, member: Member, role: StaffRole) -> list[Referral]:
    """Every referral that names her: about her (her intakes, staff), or raised or joined by a
    visit that names her (issue 9 item 8), as the role may see them."""
    by_visit = select(ReferralSource.referral_id).where(ReferralSource.submission_id.in_(
        select(MonitoringVisit.submission_id).where(MonitoringVisit.id.in_(_visits_naming(member)))))
    stmt = select(Referral).where(or_(
        Referral.member_id.in_(_member_and_merged(member)), Referral.id.in_(by_visit),
    )).order_by(Referral.created_at)
    return list(session.scalars(_visible_referrals(stmt, role)))


def member_sectors(session: Session, member: Member) -> list[MemberSector]:
    """Her sector history, oldest first (records merged into her included)."""
    return list(session.scalars(
        select(MemberSector).where(MemberSector.member_id.in_(_member_and_merged(member)))
        .order_by(MemberSector.since, MemberSector.id)
    ))
