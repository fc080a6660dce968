"""The counts on a staff member's home page: what is waiting for someone to act.

Counts respect what the role may see: child-protection referrals and the submissions that
raised them are counted only for the child_protection role (domain.md 1.5.4: not even counts).
Counts carry no names, so every role gets them; the pages they link to apply their own rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.accounts import access
from server.casework import listing
from server.casework.queries import overdue_clause
from server.db.models import (
    DuplicateVisitStatus,
    PossibleDuplicateVisit,
    ReviewState,
    StaffRole,
    Submission,
    utcnow,
)
from server.db.models.cases import (
    CandidatePair,
    PairStatus,
    Priority,
    Referral,
    ReferralCategory,
    ReferralStatus,
    VillageReport,
    VillageReportStatus,
)


@dataclass(frozen=True)
class WorkQueue:
    urgent_referrals_new: int  # urgent, not yet acknowledged
    urgent_referrals_overdue: int  # of those, older than 24 hours
    referrals_open: int  # any priority, not closed
    submissions_to_review: int  # review state received or edited
    duplicate_pairs_pending: int
    visit_duplicates_pending: int  # the second visit of each is not counted until staff decide
    village_corrections_pending: int
    merges_failed: int
    answers_to_correct: int  # submissions merged without answers that did not fit (issue 9 item 9)


def _count(session: Session, stmt: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _referrals(role: StaffRole) -> Select[Any]:
    stmt = select(Referral.id)
    if access.sees_restricted_referrals(role):
        return stmt
    return stmt.where(Referral.restricted.is_(False), Referral.category != ReferralCategory.CHILD_PROTECTION)


def work_queue(session: Session, role: StaffRole, now: datetime | None = None) -> WorkQueue:
    now = now or utcnow()
    urgent_new = _referrals(role).where(Referral.priority == Priority.URGENT,
                                        Referral.status == ReferralStatus.NEW)
    to_review = listing.visible_to(
        select(Submission.id).where(Submission.review_state.in_((ReviewState.RECEIVED, ReviewState.EDITED))),
        role,
    )
    return WorkQueue(
        urgent_referrals_new=_count(session, urgent_new),
        urgent_referrals_overdue=_count(session, urgent_new.where(overdue_clause(now))),
        referrals_open=_count(session, _referrals(role).where(Referral.status != ReferralStatus.CLOSED)),
        submissions_to_review=_count(session, to_review),
        duplicate_pairs_pending=_count(
            session, select(CandidatePair.id).where(CandidatePair.status == PairStatus.PENDING)),
        visit_duplicates_pending=_count(session, select(PossibleDuplicateVisit.id).where(
            PossibleDuplicateVisit.status == DuplicateVisitStatus.PENDING)),
        village_corrections_pending=_count(session, select(VillageReport.id).where(
            VillageReport.status == VillageReportStatus.CORRECTION_PENDING)),
        merges_failed=_count(session, listing.failed_merges(role)),
        answers_to_correct=_count(session, listing.filtered(role, listing.SubmissionFilter(
            to_correct=True)).with_only_columns(Submission.id)),
    )
