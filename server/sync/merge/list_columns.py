"""The staff list's filter columns on a submission, copied from the case rows its merge wrote.

The list (casework.listing) filters on event date, commune and "raised an alert"; reaching them
through the case tables at every request cost 150-300 ms a page at 100,000 submissions, so each
merge stores them on the submission. Precedence when a submission wrote several case rows: a
village report, then a workplace visit, then a member intake (the event the form is about).
The commune is the one in force when the submission was merged: a member moving workplace later
does not move the intake to another commune.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Submission
from server.db.models.cases import Member, MonitoringVisit, ReferralSource, VillageReport, Workplace

#: What a merge handler wrote for the list: (event date, commune, dated by a month).
Listed = tuple[date | None, str | None, bool]
NOTHING_LISTED: Listed = (None, None, False)


def stamp(
    session: Session, sub: Submission, *, listed: Listed | None = None, has_alert: bool | None = None
) -> None:
    """Set `sub.event_date`, `event_month`, `commune_code` and `has_alert` from its case rows.

    A first merge passes what its handler wrote (``listed``, ``has_alert``), so the hot path
    reads nothing back; an edit's merge (which may have moved or removed rows) reads them."""
    if listed is not None and has_alert is not None:
        sub.event_date, sub.commune_code, sub.event_month = listed
        sub.has_alert = has_alert
        return
    event: tuple[date | None, str | None] = (None, None)
    for found in (
        session.execute(
            select(Member.intake_date, Workplace.commune_code)
            .outerjoin(Workplace, Workplace.id == Member.current_workplace_id)
            .where(Member.source_submission_id == sub.id).order_by(Member.id).limit(1)
        ).first(),
        session.execute(
            select(MonitoringVisit.visit_date, Workplace.commune_code)
            .outerjoin(Workplace, Workplace.id == MonitoringVisit.workplace_id)
            .where(MonitoringVisit.submission_id == sub.id).limit(1)
        ).first(),
    ):
        if found is not None:
            event = (found[0], found[1])
    report = session.execute(
        select(VillageReport.period_ym, VillageReport.commune_code)
        .where(VillageReport.submission_id == sub.id).limit(1)
    ).first()
    if report is not None:
        event = (month_start(report[0]), report[1])
    sub.event_date, sub.commune_code = event
    sub.event_month = report is not None
    sub.has_alert = session.scalar(
        select(ReferralSource.id)
        .where(ReferralSource.submission_id == sub.id, ReferralSource.active.is_(True)).limit(1)
    ) is not None


def month_start(ym: str | None) -> date | None:
    """A village report's period (YYYY-MM) as its first day; None if it is not a month."""
    try:
        return date(int(ym[:4]), int(ym[5:7]), 1) if ym else None
    except ValueError:
        return None
