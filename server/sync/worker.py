"""Run merges in their own transactions (design.md example 8: Central's processSubmissionEvent).

* ``process_submission(db, submission_id)``: one merge, one transaction. On any error the
  merge is rolled back and the failure is recorded in a *separate* transaction
  (state=merge_failed, merge_error = a short reason with no personal data, merge_attempts+1).
  The stored submission is never touched otherwise, so nothing is lost and it can be retried.
* ``process_pending(db, limit)``: merges RECEIVED and MERGE_FAILED submissions, oldest first.
  On PostgreSQL each one is claimed with ``FOR UPDATE SKIP LOCKED``, so several processes
  (the web workers' hooks, ``sahakum sync run``) can run side by side without waiting on
  each other; SQLite has one writer anyway.
* ``merge_hook(app, submission_id)``: the after-submission hook the OpenRosa endpoint calls
  once the 201 has been sent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from server.db.models import Submission, SubmissionState, utcnow
from server.db.session import Database
from server.sync.merge import MergeError, MergeOutcome, merge_submission

logger = logging.getLogger(__name__)

PENDING_STATES = (SubmissionState.RECEIVED, SubmissionState.MERGE_FAILED)


@dataclass
class ProcessResult:
    submission_id: uuid.UUID
    ok: bool
    outcome: MergeOutcome | None = None
    error: str | None = None


@dataclass
class BatchResult:
    merged: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    skipped: list[uuid.UUID] = field(default_factory=list)


def failure_reason(exc: BaseException) -> str:
    """A short reason for staff: the error class and, for our own MergeError, its code.
    Never the exception text of database or parser errors (they can quote answers)."""
    if isinstance(exc, MergeError):
        return f"MergeError: {exc}"[:200]
    if isinstance(exc, SQLAlchemyError):
        return f"database error ({type(exc).__name__})"
    return type(exc).__name__


def _record_failure(db: Database, submission_id: uuid.UUID, reason: str) -> None:
    with db.transaction() as session:
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(
                state=SubmissionState.MERGE_FAILED,
                merge_error=reason,
                merge_attempts=Submission.merge_attempts + 1,
                updated_at=utcnow(),
            )
        )


def process_submission(db: Database, submission_id: uuid.UUID) -> ProcessResult:
    """Merge one submission in its own transaction; record a failure in another."""
    try:
        with db.transaction() as session:
            outcome = merge_submission(session, submission_id)
            if not outcome.skipped:
                sub = session.get(Submission, submission_id)
                if sub is not None:
                    sub.merge_attempts = (sub.merge_attempts or 0) + 1
                    sub.updated_at = utcnow()
    except Exception as exc:
        reason = failure_reason(exc)
        # Log ids and the error class only: never answers (they are personal data).
        logger.warning("merge failed for submission %s: %s", submission_id, reason)
        try:
            _record_failure(db, submission_id, reason)
        except SQLAlchemyError as record_exc:
            # Not logger.exception: SQLAlchemy messages quote bound parameters (answers).
            logger.error(
                "could not record the merge failure of %s: %s",
                submission_id,
                type(record_exc).__name__,
            )
        return ProcessResult(submission_id, ok=False, error=reason)
    return ProcessResult(submission_id, ok=True, outcome=outcome)


def _claim_next(db: Database, exclude: set[uuid.UUID]) -> uuid.UUID | None:
    """The id of the oldest pending submission nobody else is merging right now."""
    with db.transaction() as session:
        stmt = (
            select(Submission.id)
            .where(Submission.state.in_(PENDING_STATES))
            .order_by(Submission.created_at, Submission.id)
            .limit(1)
        )
        if exclude:
            stmt = stmt.where(Submission.id.not_in(exclude))
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        return session.scalar(stmt)


def process_pending(db: Database, limit: int = 100) -> BatchResult:
    """Merge up to ``limit`` RECEIVED / MERGE_FAILED submissions (each in its own transaction).

    On PostgreSQL the claim and the merge happen in one transaction that holds the row lock
    (``FOR UPDATE SKIP LOCKED``), so two processes never merge the same submission at once.
    """
    result = BatchResult()
    tried: set[uuid.UUID] = set()
    while len(tried) < limit:
        if db.is_sqlite:
            sid = _claim_next(db, tried)
            if sid is None:
                break
            tried.add(sid)
            _tally(result, process_submission(db, sid))
            continue
        sid, res = _claim_and_merge_pg(db, tried)
        if sid is None:
            break
        tried.add(sid)
        _tally(result, res)
    return result


def _claim_and_merge_pg(
    db: Database, exclude: set[uuid.UUID]
) -> tuple[uuid.UUID | None, ProcessResult | None]:
    sid: uuid.UUID | None = None
    try:
        with db.transaction() as session:
            stmt = (
                select(Submission.id)
                .where(Submission.state.in_(PENDING_STATES))
                .order_by(Submission.created_at, Submission.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if exclude:
                stmt = stmt.where(Submission.id.not_in(exclude))
            sid = session.scalar(stmt)
            if sid is None:
                return None, None
            outcome = merge_submission(session, sid)
            sub = session.get(Submission, sid)
            if sub is not None and not outcome.skipped:
                sub.merge_attempts = (sub.merge_attempts or 0) + 1
                sub.updated_at = utcnow()
    except Exception as exc:
        if sid is None:
            raise
        reason = failure_reason(exc)
        logger.warning("merge failed for submission %s: %s", sid, reason)
        _record_failure(db, sid, reason)
        return sid, ProcessResult(sid, ok=False, error=reason)
    return sid, ProcessResult(sid, ok=True, outcome=outcome)


def _tally(result: BatchResult, res: ProcessResult | None) -> None:
    if res is None:
        return
    if not res.ok:
        result.failed.append(res.submission_id)
    elif res.outcome is not None and res.outcome.skipped:
        result.skipped.append(res.submission_id)
    else:
        result.merged.append(res.submission_id)


def merge_hook(app: Any, submission_id: uuid.UUID) -> None:
    """After-submission hook (server/api/openrosa.py calls it after the reply is sent)."""
    process_submission(app.extensions["sahakum_db"], submission_id)
