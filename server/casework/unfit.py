"""Staff act on the answers a merge could not use (issue 9 item 9): see them beside their
reason, correct one (the value is checked like a phone's answer, then the submission is
merged again with it), or dismiss it (the answer stays out). Both are audited; the value
itself is never in the audit entry or a log. Used by the web pages and the JSON API alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import errors
from server.accounts import access
from server.accounts.staff import audit
from server.db.models import (
    FormVersion,
    StaffUser,
    Submission,
    SubmissionVersion,
    UnfitAnswer,
    UnfitStatus,
    utcnow,
)
from server.sync.merge import fit
from server.sync.merge.pipeline import merge_submission


@dataclass(frozen=True)
class UnfitView:
    """One unfit answer as staff see it (value only for roles that read answers)."""

    id: int
    field: str
    repeat: str | None
    row: int | None
    value: str | None
    reason: str
    explanation_en: str
    explanation_km: str
    status: str
    corrected_value: str | None
    resolved_by: str | None


def view(row: UnfitAnswer, pii: bool) -> UnfitView:
    return UnfitView(
        id=row.id, field=row.field, repeat=row.repeat or None, row=row.row or None,
        value=row.value if pii else None, reason=row.reason,
        explanation_en=fit.explain(row.reason, row.limit, "en"),
        explanation_km=fit.explain(row.reason, row.limit, "km"),
        status=str(row.status.value), corrected_value=row.corrected_value if pii else None,
        resolved_by=row.resolved_by,
    )


def of_submission(session: Session, sub: Submission) -> list[UnfitAnswer]:
    """The unfit answers of the submission's current version (older versions' rows are
    superseded by the edit that replaced them)."""
    return list(session.scalars(
        select(UnfitAnswer).join(SubmissionVersion,
                                 SubmissionVersion.id == UnfitAnswer.submission_version_id)
        .where(UnfitAnswer.submission_id == sub.id, SubmissionVersion.is_current.is_(True))
        .order_by(UnfitAnswer.id)
    ))


def _load(session: Session, actor: StaffUser, sub: Submission, unfit_id: int) -> UnfitAnswer:
    if not access.can_work_cases(actor.role):
        raise errors.StaffForbidden()
    # An id no row can have (PostgreSQL's integer is 32-bit): not found, never a database error.
    row = session.get(UnfitAnswer, unfit_id, with_for_update=True) if 0 < unfit_id < 2**31 else None
    if row is None or row.submission_id != sub.id:
        raise errors.NotFound("There is no such answer to correct on this submission.")
    if row.status != UnfitStatus.OPEN:
        raise errors.UnfitAlreadyResolved()
    return row


def _rule(session: Session, row: UnfitAnswer) -> fit.Rule | None:
    xml = session.scalar(select(FormVersion.xml).join(
        SubmissionVersion, SubmissionVersion.form_version_id == FormVersion.id,
    ).where(SubmissionVersion.id == row.submission_version_id))
    return fit.form_shape(xml).get(row.field) if xml else None


def correct(
    session: Session, actor: StaffUser, sub: Submission, unfit_id: int, value: str,
    request_id: str | None = None,
) -> UnfitAnswer:
    """Put a staff member's value in place of the unfit one and merge the submission again."""
    row = _load(session, actor, sub, unfit_id)
    text = (value or "").strip()
    if not text or fit.reason_for(row.field, text, _rule(session, row)) is not None:
        raise errors.UnfitValueInvalid()
    row.status, row.corrected_value = UnfitStatus.CORRECTED, text
    row.resolved_by, row.resolved_at = actor.name, utcnow()
    session.flush()
    audit(session, actor, "submission.answer.correct", "submission", [sub.id],
          reason=f"{row.field}:{row.reason}", request_id=request_id)
    merge_submission(session, sub.id, again=True)
    return row


def dismiss(
    session: Session, actor: StaffUser, sub: Submission, unfit_id: int,
    request_id: str | None = None,
) -> UnfitAnswer:
    """Leave the answer out for good (the submission stays merged without it)."""
    row = _load(session, actor, sub, unfit_id)
    row.status, row.resolved_by, row.resolved_at = UnfitStatus.DISMISSED, actor.name, utcnow()
    session.flush()
    audit(session, actor, "submission.answer.dismiss", "submission", [sub.id],
          reason=f"{row.field}:{row.reason}", request_id=request_id)
    return row
