"""Staff decisions on a second village report for the same village and month (domain.md 4.1:
"a correction candidate, and staff choose"; issue 9 items 6 and 7). One place for the JSON API
and the web pages; each decision is audited here, in the caller's transaction. No Flask.

Accepting makes the correction the counted report for (village, month): the earlier one is kept,
``superseded``, with its figures and history. Rejecting keeps the earlier report. Neither closes
a referral: an alert only the set-aside report raised marks its referral "source edited" for
staff, as an edit that removes a trigger does (domain.md 3.4).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import errors
from server.accounts.access import normalise_reason
from server.accounts.staff import audit
from server.db.models import StaffUser
from server.db.models.cases import (
    EntityType,
    Referral,
    ReferralSource,
    VillageReport,
    VillageReportStatus,
)
from server.sync import cases

STATUSES = tuple(s.value for s in VillageReportStatus)

#: The figures staff compare, in the form's order (domain.md 3.3).
FIGURES = (
    "n_households", "n_left", "n_left_women_15_24", "n_left_under18", "n_left_via_broker",
    "n_returned", "n_returned_need_help", "n_children_working_away", "n_venues", "n_new_venues",
    "n_sessions", "n_part_f", "n_part_m",
)  # fmt: skip


def etag(report: VillageReport) -> str:
    """Changes when the report is decided, edited, or the report it would correct changes."""
    other = report.correction_of_id.hex if report.correction_of_id else "-"
    stamp = int(report.updated_at.timestamp() * 1_000_000) if report.updated_at else 0
    return f'"vr-{report.id.hex}-{report.status}-{other}-{stamp}"'


def get_report(session: Session, report_id: str) -> VillageReport | None:
    try:
        rid = uuid.UUID(str(report_id))
    except ValueError:
        return None
    return session.get(VillageReport, rid)


def list_reports(
    session: Session, *, status: str | None, offset: int, limit: int
) -> tuple[list[VillageReport], int]:
    stmt = select(VillageReport)
    if status:
        stmt = stmt.where(VillageReport.status == VillageReportStatus(status))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(VillageReport.period_ym.desc(), VillageReport.village_code,
                                         VillageReport.created_at).offset(offset).limit(limit)).all()
    return list(rows), total


def history(session: Session, report: VillageReport) -> list[VillageReport]:
    """Every report for the same village and month, oldest first (the accepted one, the ones it
    replaced, pending and rejected corrections)."""
    return list(session.scalars(
        select(VillageReport).where(VillageReport.village_code == report.village_code,
                                    VillageReport.period_ym == report.period_ym)
        .order_by(VillageReport.created_at, VillageReport.id)
    ))


def accepted_report(session: Session, report: VillageReport, *, lock: bool = False) -> VillageReport | None:
    stmt = select(VillageReport).where(VillageReport.village_code == report.village_code,
                                       VillageReport.accepted_period_ym == report.period_ym)
    return session.scalar(stmt.with_for_update() if lock else stmt)


@dataclass(frozen=True)
class FigureRow:
    name: str
    earlier: int | None
    correction: int | None

    @property
    def differs(self) -> bool:
        return self.earlier != self.correction


def compare(earlier: VillageReport | None, report: VillageReport) -> list[FigureRow]:
    return [FigureRow(f, getattr(earlier, f) if earlier else None, getattr(report, f)) for f in FIGURES]


def _check(report: VillageReport, sent_etag: str | None) -> None:
    if sent_etag is not None and sent_etag.strip().removeprefix("W/") != etag(report):
        raise errors.PreconditionFailed()
    if report.status != VillageReportStatus.CORRECTION_PENDING:
        raise errors.CorrectionAlreadyDecided()


def _set_aside_sources(
    session: Session, report: VillageReport, keep: Sequence[uuid.UUID] | None, actor: str
) -> None:
    """Alerts of a report that no longer counts: their sources go inactive, and a referral that
    no longer has an active source among `keep` (None: any other submission) is marked
    "source edited" for staff (never closed)."""
    sources = session.scalars(select(ReferralSource).where(
        ReferralSource.submission_id == report.submission_id, ReferralSource.active.is_(True))).all()
    for src in sources:
        src.active = False
        others = select(ReferralSource.id).where(
            ReferralSource.referral_id == src.referral_id, ReferralSource.active.is_(True),
            ReferralSource.submission_id != report.submission_id,
        )
        if keep is not None:
            others = others.where(ReferralSource.submission_id.in_(keep))
        still = session.scalar(others.limit(1))
        if still is None:
            referral = session.get(Referral, src.referral_id, with_for_update=True)
            cases.set_fields(session, referral, EntityType.REFERRAL, {"source_edited": True}, actor=actor)


def accept_correction(
    session: Session, actor: StaffUser, report: VillageReport, *, note: str | None = None,
    sent_etag: str | None = None, request_id: str | None = None,
) -> VillageReport:
    """The correction replaces the accepted report's figures for its village and month."""
    _check(report, sent_etag)
    reason = normalise_reason(note)
    who = f"staff:{actor.name}"
    earlier = accepted_report(session, report, lock=True)
    if earlier is not None:
        cases.set_fields(session, earlier, EntityType.VILLAGE_REPORT,
                         {"status": VillageReportStatus.SUPERSEDED, "accepted_period_ym": None}, actor=who)
        session.flush()  # frees the (village, month) slot before the correction takes it
    cases.set_fields(session, report, EntityType.VILLAGE_REPORT, {
        "status": VillageReportStatus.ACCEPTED, "accepted_period_ym": report.period_ym,
        "correction_of_id": earlier.id if earlier is not None else report.correction_of_id,
    }, actor=who)
    for other in history(session, report):
        if other.status == VillageReportStatus.CORRECTION_PENDING and other.id != report.id:
            # Other corrections now compare with the report that counts.
            cases.set_fields(session, other, EntityType.VILLAGE_REPORT, {"correction_of_id": report.id},
                             actor=who)
    if earlier is not None:
        _set_aside_sources(session, earlier, [report.submission_id], who)
    session.flush()
    ids = [report.id] + ([earlier.id] if earlier is not None else [])
    audit(session, actor, "village_report.accept_correction", "village_report", ids, reason=reason,
          request_id=request_id)
    return report


def reject_correction(
    session: Session, actor: StaffUser, report: VillageReport, *, note: str | None = None,
    sent_etag: str | None = None, request_id: str | None = None,
) -> VillageReport:
    """Keep the accepted report; this one (a resend or a wrong report) is kept, not counted."""
    _check(report, sent_etag)
    reason = normalise_reason(note)
    who = f"staff:{actor.name}"
    cases.set_fields(session, report, EntityType.VILLAGE_REPORT, {"status": VillageReportStatus.REJECTED},
                     actor=who)
    _set_aside_sources(session, report, None, who)
    session.flush()
    audit(session, actor, "village_report.reject_correction", "village_report", [report.id], reason=reason,
          request_id=request_id)
    return report
