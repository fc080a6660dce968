"""Possible duplicate visits (domain.md 4.1; issue 9 item 6): the same workplace visited by the
same collector on the same day under another instanceID. Never dropped: the pair is kept for
staff, and the later visit is left out of counts until staff decide (``reports.scope``).

An edit (``deprecatedID``) is the same logical submission, so it never pairs with itself; an
edit that changes the workplace, date or collector withdraws a pending pair.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from server.db.models import DuplicateVisitStatus, MonitoringVisit, PossibleDuplicateVisit, utcnow
from server.db.models.field_duplicates import HELD
from server.sync.merge.context import MergeContext

_ALIVE = (*HELD, DuplicateVisitStatus.DIFFERENT)


def _key(visit: MonitoringVisit) -> tuple[object, object, object]:
    return visit.workplace_id, visit.pe_code, visit.visit_date


def flag_possible_duplicate(ctx: MergeContext, visit: MonitoringVisit) -> None:
    """Pair this visit with an earlier counted visit of the same key, once."""
    s = ctx.session
    pairs = s.scalars(select(PossibleDuplicateVisit).where(
        or_(PossibleDuplicateVisit.first_visit_id == visit.id,
            PossibleDuplicateVisit.second_visit_id == visit.id),
        PossibleDuplicateVisit.status.in_(_ALIVE),
    )).all() if ctx.remerge else []
    for pair in pairs:
        other = s.get(MonitoringVisit, pair.second_visit_id if pair.first_visit_id == visit.id
                      else pair.first_visit_id)
        if pair.status == DuplicateVisitStatus.PENDING and (other is None or _key(other) != _key(visit)):
            # The edit made them two different visits: nothing left for staff to decide.
            pair.status = DuplicateVisitStatus.WITHDRAWN
            pair.row_version += 1
    if any(p.status in _ALIVE for p in pairs):
        return
    if visit.workplace_id is None or visit.pe_code is None or visit.visit_date is None:
        return
    held = select(PossibleDuplicateVisit.second_visit_id).where(PossibleDuplicateVisit.status.in_(HELD))
    earlier = s.scalars(select(MonitoringVisit).where(
        MonitoringVisit.workplace_id == visit.workplace_id,
        MonitoringVisit.visit_date == visit.visit_date,
        MonitoringVisit.pe_code == visit.pe_code,
        MonitoringVisit.id != visit.id,
        MonitoringVisit.id.not_in(held),
    ).order_by(MonitoringVisit.created_at, MonitoringVisit.id).limit(1)).first()
    if earlier is None:
        return
    again = s.scalar(select(PossibleDuplicateVisit).where(
        PossibleDuplicateVisit.first_visit_id == earlier.id,
        PossibleDuplicateVisit.second_visit_id == visit.id,
    ))
    if again is not None:
        # Withdrawn by an edit, and an edit made them alike again: staff decide after all.
        again.status = DuplicateVisitStatus.PENDING
        again.row_version += 1
        return
    s.add(PossibleDuplicateVisit(
        first_visit_id=earlier.id, second_visit_id=visit.id, second_submission_id=ctx.submission.id,
        workplace_id=visit.workplace_id, pe_code=visit.pe_code, visit_date=visit.visit_date,
        status=DuplicateVisitStatus.PENDING, row_version=1, created_at=utcnow(),
    ))
    s.flush()
