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
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from server.db.models import Submission, SubmissionState, utcnow
from server.db.session import Database
from server.sync.merge import MergeError, MergeOutcome, merge_submission

logger = logging.getLogger(__name__)
merge_log = logging.getLogger("sahakum.merge")

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


# Races between concurrent merges (a deadlock, SQLite's single writer, two merges writing the
# same workplace version) are not the submission's fault: try again before calling it failed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, IntegrityError)
TRANSIENT_RETRIES = 3


def log_merge(result: ProcessResult, started: float, attempts: int) -> ProcessResult:
    """One JSON line per merge (server/logs.py): ids, form id, outcome codes, counts and the
    duration. Never answers: no names, phones, free text, instanceIDs."""
    outcome = result.outcome
    if not result.ok:
        code = "failed"
    elif outcome is not None and outcome.skipped:
        code = f"skipped:{outcome.reason}"
    else:
        code = "merged"
    fields: dict[str, Any] = {
        "event": "merge",
        "submission_id": str(result.submission_id),
        "version_id": outcome.version_id if outcome else None,
        "form_id": outcome.form_id if outcome else None,
        "outcome": code,
        "error": result.error,  # failure_reason: an error class or a MergeError code
        "attempts": attempts,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if outcome is not None and not outcome.skipped:
        fields.update(
            referrals_created=len(outcome.referrals_created),
            candidate_pairs=len(outcome.candidate_pairs),
            merge_events=len(outcome.merge_events),
            conflicts=len(outcome.conflicts),
        )
    merge_log.info("merge", extra={"fields": fields})
    return result


def process_submission(db: Database, submission_id: uuid.UUID) -> ProcessResult:
    """Merge one submission in its own transaction; record a failure in another."""
    started = time.perf_counter()
    for attempt in range(1, TRANSIENT_RETRIES + 1):
        try:
            with db.transaction(lock_for_write=True) as session:
                outcome = merge_submission(session, submission_id)
        except TRANSIENT_ERRORS as exc:
            if attempt < TRANSIENT_RETRIES:
                time.sleep(random.uniform(0.05, 0.2) * attempt)  # noqa: S311 - jitter, not crypto
                continue
            return log_merge(_failed(db, submission_id, exc), started, attempt)
        except Exception as exc:
            return log_merge(_failed(db, submission_id, exc), started, attempt)
        return log_merge(ProcessResult(submission_id, ok=True, outcome=outcome), started, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _failed(db: Database, submission_id: uuid.UUID, exc: BaseException) -> ProcessResult:
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


@dataclass(frozen=True)
class RetryPolicy:
    """Which pending submissions a sweep takes. `sahakum sync retry` takes everything; the
    background sweeper leaves fresh ones to the after-reply hook and gives up on a submission
    that keeps failing (staff see it as merge_failed and can retry it by hand)."""

    min_age: timedelta = timedelta(0)
    max_attempts: int | None = None
    states: tuple[SubmissionState, ...] = PENDING_STATES


EVERYTHING = RetryPolicy()
SWEEPER = RetryPolicy(min_age=timedelta(seconds=60), max_attempts=8)
# What a merger process takes as soon as it is woken: new and edited submissions only. A failed
# one waits for the sweep (so one that always fails cannot keep a merger busy).
FRESH = RetryPolicy(states=(SubmissionState.RECEIVED,))


def _pending_query(exclude: set[uuid.UUID], policy: RetryPolicy) -> Select[tuple[uuid.UUID]]:
    stmt = (
        select(Submission.id)
        .where(Submission.state.in_(policy.states))
        .order_by(Submission.created_at, Submission.id)
        .limit(1)
    )
    if exclude:
        stmt = stmt.where(Submission.id.not_in(exclude))
    if policy.min_age:
        stmt = stmt.where(Submission.updated_at <= utcnow() - policy.min_age)
    if policy.max_attempts is not None:
        stmt = stmt.where(Submission.merge_attempts < policy.max_attempts)
    return stmt


def _claim_next(db: Database, exclude: set[uuid.UUID], policy: RetryPolicy) -> uuid.UUID | None:
    """The id of the oldest pending submission (SQLite: one writer, no row locks to skip)."""
    with db.transaction() as session:
        return session.scalar(_pending_query(exclude, policy))


def process_pending(db: Database, limit: int = 100, policy: RetryPolicy = EVERYTHING) -> BatchResult:
    """Merge up to ``limit`` RECEIVED / MERGE_FAILED submissions (each in its own transaction).

    On PostgreSQL the claim and the merge happen in one transaction that holds the row locks
    (``FOR UPDATE SKIP LOCKED``), so two processes never merge the same submission at once; up
    to ``CLAIM_BATCH`` are claimed and merged per transaction, each in a savepoint.
    """
    result = BatchResult()
    tried: set[uuid.UUID] = set()
    while len(tried) < limit:
        if db.is_sqlite:
            sid = _claim_next(db, tried, policy)
            if sid is None:
                break
            tried.add(sid)
            _tally(result, process_submission(db, sid))
            continue
        done, retry = _claim_and_merge_batch_pg(db, tried, policy, min(CLAIM_BATCH, limit - len(tried)))
        if not done and retry is None:
            break
        for res in done:
            tried.add(res.submission_id)
            _tally(result, res)
        if retry is not None:
            # A race (deadlock, a unique key another merge just wrote): alone, in its own
            # transaction, with the usual retries, now that the batch's locks are released.
            sid, res = _claim_and_merge_pg(db, tried, policy, retry)
            tried.add(retry)
            _tally(result, res)
    return result


#: Submissions one PostgreSQL transaction claims and merges, each in its own savepoint: one
#: claim and one commit (a WAL flush) for the batch instead of per merge. Small, so that the
#: first merge of a batch is not committed long after it was done.
CLAIM_BATCH = 8


def _claim_and_merge_batch_pg(
    db: Database, exclude: set[uuid.UUID], policy: RetryPolicy, n: int
) -> tuple[list[ProcessResult], uuid.UUID | None]:
    """Claim up to ``n`` pending submissions (``FOR UPDATE SKIP LOCKED``) and merge them in one
    transaction. Each merge runs in a savepoint, so a failing one is rolled back alone and
    recorded as failed while the others are kept. Returns the results and, when a merge hit a
    transient error, its id (the batch stops there and commits; the rest stay pending)."""
    done: list[tuple[ProcessResult, float]] = []
    retry: uuid.UUID | None = None
    claimed: list[Submission] = []
    try:
        with db.transaction() as session:
            claimed = list(session.scalars(
                _pending_query(exclude, policy).limit(n).with_only_columns(Submission)
                .with_for_update(skip_locked=True)
            ))  # fmt: skip
            for sub in claimed:
                started = time.perf_counter()
                res = _merge_in_savepoint(session, sub)
                if res is None:
                    retry = sub.id
                    break
                done.append((res, started))
    except TRANSIENT_ERRORS:
        # The commit itself failed: nothing of the batch was kept. Its first submission goes
        # the single way (with retries); the others are still pending for the next claim.
        if not claimed:
            raise
        return [], claimed[0].id
    return [log_merge(res, started, 1) for res, started in done], retry


def _merge_in_savepoint(session: Session, sub: Submission) -> ProcessResult | None:
    """One merge of a batch; None after a transient error (rolled back to its savepoint)."""
    # Each merge starts from an empty identity map, as in a transaction of its own (what an
    # earlier merge of the batch loaded is read again if needed).
    session.expunge_all()
    session.add(sub)
    try:
        with session.begin_nested():
            outcome = merge_submission(session, sub.id, locked=True)
    except TRANSIENT_ERRORS:
        return None
    except Exception as exc:
        return _failed_in(session, sub.id, exc)
    return ProcessResult(sub.id, ok=True, outcome=outcome)


def _failed_in(session: Session, submission_id: uuid.UUID, exc: BaseException) -> ProcessResult:
    """A merge that failed inside a batch (its savepoint rolled back): recorded in the batch's
    transaction, which holds the submission's row lock."""
    reason = failure_reason(exc)
    logger.warning("merge failed for submission %s: %s", submission_id, reason)
    session.execute(
        update(Submission).where(Submission.id == submission_id).values(
            state=SubmissionState.MERGE_FAILED, merge_error=reason,
            merge_attempts=Submission.merge_attempts + 1, updated_at=utcnow(),
        ).execution_options(synchronize_session=False)
    )
    return ProcessResult(submission_id, ok=False, error=reason)


def _claim_and_merge_pg(
    db: Database, exclude: set[uuid.UUID], policy: RetryPolicy, sid: uuid.UUID | None = None
) -> tuple[uuid.UUID | None, ProcessResult | None]:
    """Claim the oldest unlocked pending submission (or ``sid``, if still pending) and merge it
    while holding the row lock. A transient error (deadlock, two merges writing the same
    workplace) rolls back, releasing the lock, and the same submission is claimed again if no
    one else has taken it meanwhile."""
    started = time.perf_counter()
    for attempt in range(1, TRANSIENT_RETRIES + 1):
        try:
            with db.transaction() as session:
                query = _pending_query(exclude, policy) if sid is None else _same_if_pending(sid, policy)
                # The whole row, locked: the merge takes it from the session, no second read.
                claimed = session.scalar(
                    query.with_only_columns(Submission).with_for_update(skip_locked=True)
                )
                if claimed is None:
                    return sid, None  # nothing pending, or another merger took it over
                sid = claimed.id
                outcome = merge_submission(session, sid, locked=True)
        except TRANSIENT_ERRORS as exc:
            if sid is None:
                raise
            if attempt < TRANSIENT_RETRIES:
                time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter, not crypto
                continue
            return sid, log_merge(_failed(db, sid, exc), started, attempt)
        except Exception as exc:
            if sid is None:
                raise
            return sid, log_merge(_failed(db, sid, exc), started, attempt)
        return sid, log_merge(ProcessResult(sid, ok=True, outcome=outcome), started, attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _same_if_pending(sid: uuid.UUID, policy: RetryPolicy) -> Select[tuple[uuid.UUID]]:
    return select(Submission.id).where(Submission.id == sid, Submission.state.in_(policy.states))


class Sweeper:
    """Merges what the after-reply hook missed (a failure, a process that died between the
    201 and the merge), every `interval` seconds, in a daemon thread of each server process.
    Several processes sweeping at once is safe: claims skip locked rows on PostgreSQL and
    merging is idempotent."""

    def __init__(self, db: Database, interval: float = 30.0, limit: int = 100) -> None:
        self.db = db
        self.interval = interval
        self.limit = limit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sahakum-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def sweep(self) -> BatchResult:
        return process_pending(self.db, self.limit, SWEEPER)

    def _run(self) -> None:
        # Jitter so the processes of one server do not all sweep at the same moment.
        while not self._stop.wait(self.interval * random.uniform(0.8, 1.2)):  # noqa: S311
            try:
                self.sweep()
            except Exception as exc:
                logger.error("merge sweep failed: %s", type(exc).__name__)


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
