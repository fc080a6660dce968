"""Review of submissions by staff: states with notes (one, many, or all matching a filter),
comments, and the feed of what happened to a submission (versions with their diffs, reviews,
comments), as in ODK Central's submission activity but with bulk review.

States have a consequence: a rejected submission is left out of the indicator report
(``counted_in_reports``). Every action is audited here, for the web pages and the API alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from server import errors
from server.accounts import access
from server.accounts.staff import audit
from server.casework import listing
from server.casework.diff import FieldChange, diff_answers
from server.casework.submission_answers import version_answers
from server.db.models import (
    Collector,
    ReviewState,
    StaffUser,
    Submission,
    SubmissionComment,
    SubmissionReview,
    SubmissionVersion,
    utcnow,
)

STAFF_STATES = (ReviewState.HAS_ISSUES, ReviewState.APPROVED, ReviewState.REJECTED)
NOTE_REQUIRED = (ReviewState.HAS_ISSUES, ReviewState.REJECTED)
MAX_NOTE = 2000
MAX_BULK = 10_000
_CHUNK = 500


def counted_in_reports() -> ColumnElement[bool]:
    """The rule for reports: a submission staff rejected does not count (domain.md 5)."""
    return Submission.review_state != ReviewState.REJECTED


def clean_note(note: str | None, required: bool = False) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise errors.NoteTooLong()
    if not text and required:
        raise errors.ReviewNoteRequired()
    return text or None


def review_etag(submission: Submission, last_review_id: int | None) -> str:
    """Changes with any review and any new version, so two reviewers cannot overwrite each other."""
    return f'"review-{submission.id.hex}-{last_review_id or 0}-{len(submission.versions)}"'


def last_review_id(session: Session, submission: Submission) -> int | None:
    return session.scalar(
        select(SubmissionReview.id).where(SubmissionReview.submission_id == submission.id)
        .order_by(SubmissionReview.id.desc()).limit(1)
    )


def _check_actor(actor: StaffUser) -> None:
    if not access.can_work_cases(actor.role):
        raise errors.StaffForbidden()


def set_review_state(
    session: Session,
    actor: StaffUser,
    submission_ids: Iterable[uuid.UUID],
    state: str,
    note: str | None,
    request_id: str | None = None,
) -> int:
    """Set the review state of these submissions (those `actor` may see); returns how many were
    reviewed. Each gets a history row with the note and an audit entry."""
    _check_actor(actor)
    try:
        new_state = ReviewState(state)
    except ValueError:
        raise errors.ReviewStateInvalid() from None
    if new_state not in STAFF_STATES:
        raise errors.ReviewStateInvalid()
    text = clean_note(note, required=new_state in NOTE_REQUIRED)
    ids = list(dict.fromkeys(submission_ids))
    if len(ids) > MAX_BULK:
        raise errors.BulkTooLarge()
    done: list[uuid.UUID] = []
    now = utcnow()
    for start in range(0, len(ids), _CHUNK):
        stmt = select(Submission).where(Submission.id.in_(ids[start:start + _CHUNK]))
        # Row locks: two bulk reviews of overlapping rows serialise instead of interleaving.
        for sub in session.scalars(listing.visible_to(stmt, actor.role).with_for_update()):
            session.add(SubmissionReview(submission_id=sub.id, state=new_state,
                                         previous_state=sub.review_state, note=text,
                                         actor_id=actor.id, at=now))
            sub.review_state = new_state
            done.append(sub.id)
    session.flush()
    audit(session, actor, f"submission.review.{new_state.value}", "submission", done, request_id=request_id)
    return len(done)


def review_matching(
    session: Session,
    actor: StaffUser,
    filters: listing.SubmissionFilter,
    state: str,
    note: str | None,
    request_id: str | None = None,
) -> int:
    """Review every submission matching the filter (as the list shows it to `actor`)."""
    _check_actor(actor)
    ids = listing.matching_ids(session, actor.role, filters, MAX_BULK + 1)
    if len(ids) > MAX_BULK:
        raise errors.BulkTooLarge()
    return set_review_state(session, actor, ids, state, note, request_id)


def add_comment(
    session: Session, actor: StaffUser, submission: Submission, text: str, request_id: str | None = None
) -> SubmissionComment:
    _check_actor(actor)
    body = clean_note(text)
    if body is None:
        raise errors.NoteEmpty()
    comment = SubmissionComment(submission_id=submission.id, body=body, actor_id=actor.id, at=utcnow())
    session.add(comment)
    session.flush()
    audit(session, actor, "submission.comment", "submission", [submission.id], request_id=request_id)
    return comment


def comments(session: Session, submission: Submission) -> list[SubmissionComment]:
    """Staff comments, oldest first (S: read them only where answers may be read)."""
    stmt = select(SubmissionComment).where(SubmissionComment.submission_id == submission.id)
    return list(session.scalars(stmt.order_by(SubmissionComment.at, SubmissionComment.id)))


@dataclass(frozen=True)
class FeedEntry:
    kind: str  # received | edited | review | comment
    at: datetime
    actor: str | None  # staff account, or the collector account that sent the version
    instance_id: str | None = None
    state: str | None = None
    previous_state: str | None = None
    note: str | None = None  # S: a review note or a comment
    changes: list[FieldChange] = field(default_factory=list)


def version_diff(
    session: Session, old: SubmissionVersion, new: SubmissionVersion, lang: str
) -> list[FieldChange]:
    return diff_answers(version_answers(session, old, lang), version_answers(session, new, lang))


def _version_entries(session: Session, versions: Sequence[SubmissionVersion], lang: str) -> list[FeedEntry]:
    senders = dict(session.execute(select(Collector.id, Collector.name).where(
        Collector.id.in_({v.submitted_by_id for v in versions}))).all())
    entries = []
    answers = [version_answers(session, v, lang) for v in versions]
    for i, v in enumerate(versions):
        changes = diff_answers(answers[i - 1], answers[i]) if i else []
        entries.append(FeedEntry("edited" if i else "received", v.received_at, senders.get(v.submitted_by_id),
                                 instance_id=v.instance_id, changes=changes))
    return entries


def submission_feed(session: Session, submission: Submission, lang: str = "km") -> list[FeedEntry]:
    """Everything that happened to the submission, oldest first. Holds answers and notes (S):
    read it only after `submission_answers` (which audits the read)."""
    entries = _version_entries(session, list(submission.versions), lang)
    for r in session.scalars(select(SubmissionReview).where(SubmissionReview.submission_id == submission.id)):
        entries.append(FeedEntry("review", r.at, r.actor.name, state=r.state.value,
                                 previous_state=r.previous_state.value, note=r.note))
    for c in comments(session, submission):
        entries.append(FeedEntry("comment", c.at, c.actor.name, note=c.body))
    order = {"received": 0, "edited": 1, "review": 2, "comment": 3}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]))
