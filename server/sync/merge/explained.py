"""The answers a merge could not use, kept with their reason until staff act (issue 9 item 9).

Every acknowledged submission is merged or explained: the merge runs on the answers that fit
(:mod:`.fit`), and each one that did not is an ``unfit_answers`` row for its version. Staff
correct it (the merge then uses the corrected value: :func:`corrections`) or dismiss it
(:mod:`server.casework.unfit`). Rows keep their staff decision when the same version is
merged again; an edit of the submission (a new version) supersedes the open ones.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import Submission, SubmissionVersion, UnfitAnswer, UnfitStatus, utcnow
from server.sync.merge.fit import Unfit

Key = tuple[str, str | None, int | None]


def _key(row: UnfitAnswer) -> Key:
    return (row.field, row.repeat or None, row.row or None)


def corrections(session: Session, version_id: int) -> dict[Key, str]:
    """Staff corrections of this version's answers: (field, repeat, row) -> value."""
    rows = session.scalars(select(UnfitAnswer).where(
        UnfitAnswer.submission_version_id == version_id,
        UnfitAnswer.status == UnfitStatus.CORRECTED,
    ))
    return {_key(r): r.corrected_value or "" for r in rows}


def record(session: Session, sub: Submission, version: SubmissionVersion, unfit: list[Unfit]) -> int:
    """Store this merge's unfit answers; returns how many wait for staff. A value already
    recorded for this version keeps its row (and any staff decision); an open row whose
    answer now fits (a corrected list, a re-read form) is closed as superseded."""
    have = {_key(r): r for r in session.scalars(
        select(UnfitAnswer).where(UnfitAnswer.submission_version_id == version.id))}
    # Open rows of earlier versions: the edit that made this version replaced those answers.
    session.execute(update(UnfitAnswer).where(
        UnfitAnswer.submission_id == sub.id,
        UnfitAnswer.submission_version_id != version.id,
        UnfitAnswer.status == UnfitStatus.OPEN,
    ).values(status=UnfitStatus.SUPERSEDED, resolved_at=utcnow(), resolved_by="merge"))
    seen: set[Key] = set()
    for u in unfit:
        key = (u.field, u.repeat, u.row)
        seen.add(key)
        if key in have:
            continue
        session.add(UnfitAnswer(
            submission_id=sub.id, submission_version_id=version.id, field=u.field[:64],
            repeat=(u.repeat or "")[:64], row=u.row or 0, value=u.value, reason=u.reason,
            limit=u.limit, status=UnfitStatus.OPEN, created_at=utcnow(),
        ))
    for key, row in have.items():
        if key not in seen and row.status == UnfitStatus.OPEN:
            row.status, row.resolved_at, row.resolved_by = UnfitStatus.SUPERSEDED, utcnow(), "merge"
    session.flush()
    return sum(1 for u in unfit if have.get((u.field, u.repeat, u.row)) is None
               or have[(u.field, u.repeat, u.row)].status == UnfitStatus.OPEN)
