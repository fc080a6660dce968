"""Staff decisions on a possible duplicate visit (issue 9 item 6): "same visit, count once" or
"two different visits" (both count). One place for the JSON API and the web pages; each
decision is audited here, in the caller's transaction. No Flask.

The pairs are found by the merge (``server.sync.merge.duplicate_visits``); what counts is
decided by ``server.reports.scope.excluded_submissions`` from the pair's status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import errors
from server.accounts.access import normalise_reason
from server.accounts.staff import audit
from server.db.models import (
    DuplicateVisitStatus,
    MonitoringVisit,
    PossibleDuplicateVisit,
    StaffUser,
    SubmissionVersion,
    Workplace,
    utcnow,
)

STATUSES = tuple(s.value for s in DuplicateVisitStatus)

#: What staff compare (no names, no free text, nothing about a child: codes and counts).
COMPARED = ("visit_type", "access", "manager_attitude", "n_workers_est", "n_met", "n_members_present",
            "n_leaflets", "activities")


def etag(pair: PossibleDuplicateVisit) -> str:
    return f'"dv-{pair.id.hex}-{pair.row_version}"'


def get_pair(session: Session, pair_id: str) -> PossibleDuplicateVisit | None:
    try:
        pid = uuid.UUID(str(pair_id))
    except ValueError:
        return None
    return session.get(PossibleDuplicateVisit, pid)


def list_pairs(
    session: Session, *, status: str | None, offset: int, limit: int
) -> tuple[list[PossibleDuplicateVisit], int]:
    stmt = select(PossibleDuplicateVisit)
    if status:
        stmt = stmt.where(PossibleDuplicateVisit.status == DuplicateVisitStatus(status))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(PossibleDuplicateVisit.visit_date.desc(),
                                         PossibleDuplicateVisit.created_at)
                           .offset(offset).limit(limit)).all()
    return list(rows), total


@dataclass(frozen=True)
class VisitSide:
    """One visit of a pair as staff compare it."""

    visit: MonitoringVisit
    workplace_code: str | None
    received_at: object  # datetime of the first version received
    values: dict[str, object]


def sides(session: Session, pair: PossibleDuplicateVisit) -> tuple[VisitSide, VisitSide]:
    def side(visit_id: uuid.UUID) -> VisitSide:
        visit = session.get(MonitoringVisit, visit_id)
        assert visit is not None  # foreign key
        code = session.scalar(select(Workplace.workplace_code).where(Workplace.id == visit.workplace_id))
        received = session.scalar(select(func.min(SubmissionVersion.received_at))
                                  .where(SubmissionVersion.submission_id == visit.submission_id))
        values: dict[str, object] = {k: getattr(visit, k) for k in COMPARED}
        return VisitSide(visit, code, received, values)

    return side(pair.first_visit_id), side(pair.second_visit_id)


def decide(
    session: Session, actor: StaffUser, pair: PossibleDuplicateVisit, same: bool, *,
    note: str | None = None, sent_etag: str | None = None, request_id: str | None = None,
) -> PossibleDuplicateVisit:
    """`same`: one visit sent twice, the second stays out of every count. Otherwise both count."""
    if sent_etag is not None and sent_etag.strip().removeprefix("W/") != etag(pair):
        raise errors.PreconditionFailed()
    if pair.status != DuplicateVisitStatus.PENDING:
        raise errors.VisitPairAlreadyDecided()
    reason = normalise_reason(note)
    pair.status = DuplicateVisitStatus.SAME if same else DuplicateVisitStatus.DIFFERENT
    pair.row_version += 1
    pair.decided_by_id = actor.id
    pair.decided_at = utcnow()
    session.flush()
    action = "visit_duplicate.same" if same else "visit_duplicate.different"
    audit(session, actor, action, "possible_duplicate_visit", [pair.id], reason=reason, request_id=request_id)
    return pair
