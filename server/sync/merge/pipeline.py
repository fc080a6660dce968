"""Merge one stored submission into the case database (design.md "Merging is a separate step").

``merge_submission(session, submission_id)`` is the entry point the worker calls. It

1. locks the submission row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's single writer
   serialises merges) and skips when the current version is already merged (idempotent);
2. reads the current version's answers (:mod:`.answers`), puts staff corrections in, and
   keeps only the answers that fit the form (:mod:`.fit`; issue 9 item 9);
3. applies the form (:data:`HANDLERS`): :mod:`.member_intake`, :mod:`.workplace_visit`,
   :mod:`.village_data`; each reconciles its referrals (:mod:`.referrals`) and records
   provenance in ``case_changes`` (which submission version set which field);
4. records the answers it could not use, with their reasons, for staff (:mod:`.explained`).

It flushes and never commits: ``server.sync.worker`` owns the transaction. Errors raised here
carry no personal data (only codes, ids and field names).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from server.db.models import (
    Collector,
    Form,
    FormVersion,
    Submission,
    SubmissionState,
    SubmissionVersion,
    utcnow,
)
from server.sync import alerts as rules
from server.sync.merge import explained, fit, list_columns
from server.sync.merge.answers import (
    KNOWN_REPEATS,
    UnreadableAnswers,
    event_date,
    read_answers,
    repeat_names,
)
from server.sync.merge.context import MergeContext, MergeError, MergeOutcome
from server.sync.merge.member_intake import merge_intake
from server.sync.merge.village_data import merge_village
from server.sync.merge.workplace_visit import merge_visit

#: Form id -> its mapping to cases.
HANDLERS: dict[str, Callable[[MergeContext], None]] = {
    rules.FORM_INTAKE: merge_intake,
    rules.FORM_VISIT: merge_visit,
    rules.FORM_VILLAGE: merge_village,
}


@functools.lru_cache(maxsize=1)
def _current_version_query() -> Select[tuple[SubmissionVersion, str, str, Collector]]:
    """Built once: constructing it cost about as much as running it."""
    return (
        select(SubmissionVersion, Form.xml_form_id, FormVersion.md5, Collector)
        .outerjoin(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(Form, Form.id == bindparam("form_id"))
        .outerjoin(Collector, Collector.id == SubmissionVersion.submitted_by_id)
        .where(SubmissionVersion.submission_id == bindparam("sid"), SubmissionVersion.is_current.is_(True))
        .order_by(SubmissionVersion.id.desc())
        .limit(1)
    )


def _current_version(
    session: Session, sub: Submission
) -> tuple[SubmissionVersion, str, str | None, Collector | None]:
    """(current version, its form's id, the form version's md5, the account that sent it: a
    visit checks its communes), one query."""
    row = session.execute(_current_version_query(), {"sid": sub.id, "form_id": sub.form_id}).first()
    if row is None:
        raise MergeError("no_current_version")
    return row[0], row[1] or "", row[2], row[3]


#: Repeat names by form version content (md5): form versions never change once published.
_REPEATS: dict[str, frozenset[str]] = {}


def _repeats(session: Session, version: SubmissionVersion, md5: str | None) -> frozenset[str]:
    if md5 is not None and md5 in _REPEATS:
        return _REPEATS[md5]
    xml = session.scalar(select(FormVersion.xml).where(FormVersion.id == version.form_version_id))
    names = repeat_names(xml) if xml else KNOWN_REPEATS
    if md5 is not None and len(_REPEATS) < 256:
        _REPEATS[md5] = names
    return names


#: What each question accepts, by form version content (md5), like _REPEATS: no form XML is
#: read on the merge's hot path once a version has been seen.
_SHAPES: dict[str, dict[str, fit.Rule]] = {}


def _shape(session: Session, version: SubmissionVersion, md5: str | None) -> dict[str, fit.Rule]:
    if md5 is not None and md5 in _SHAPES:
        return _SHAPES[md5]
    xml = session.scalar(select(FormVersion.xml).where(FormVersion.id == version.form_version_id))
    shape = fit.form_shape(xml) if xml else {}
    if md5 is not None and len(_SHAPES) < 256:
        _SHAPES[md5] = shape
    return shape


def _context(
    session: Session, sub: Submission, version: SubmissionVersion, outcome: MergeOutcome,
    repeats: frozenset[str], shape: dict[str, fit.Rule],
) -> tuple[MergeContext, list[fit.Unfit]]:
    try:
        answers, entity = read_answers(version.xml, repeats)
    except UnreadableAnswers as exc:
        raise MergeError(str(exc)) from None
    # Only a merged submission can have staff corrections: a first merge reads none.
    fixes = explained.corrections(session, version.id) if sub.merged_version_id is not None else {}
    checked = fit.check_answers(shape,
                                fit.with_corrections(answers, fixes) if fixes else answers)
    answers = checked.answers
    return MergeContext(
        session=session,
        submission=sub,
        version=version,
        form_id=outcome.form_id,
        answers=answers,
        entity=entity,
        event_date=event_date(answers, version.received_at.date()),
        outcome=outcome,
        remerge=sub.merged_version_id is not None,
    ), checked.unfit


#: Merge errors raised before anything is written because the answers that identify the record
#: are missing or did not fit: explained on those fields instead of failing (issue 9 item 9).
_KEY_FIELDS: dict[str, tuple[str, ...]] = {"village_report_key_missing": ("village", "period")}


def _explain_missing_key(ctx: MergeContext, exc: MergeError, unfit: list[fit.Unfit]) -> None:
    fields = _KEY_FIELDS.get(str(exc))
    if fields is None:
        raise exc
    if not any(u.field in fields for u in unfit):
        unfit.append(fit.Unfit(fields[0], ctx.s(fields[0]) or "", "report_key_missing"))


def merge_submission(
    session: Session, submission_id: uuid.UUID, *, locked: bool = False, again: bool = False
) -> MergeOutcome:
    """Merge the current version of one submission. Idempotent; flushes, never commits.

    ``locked``: this transaction has already loaded the row ``FOR UPDATE`` (a merger's
    claim), so it is taken from the session without reading it again.
    ``again``: merge the merged version once more (after a staff correction of an answer)."""
    outcome = MergeOutcome(submission_id=submission_id)
    sub = (session.get(Submission, submission_id) if locked else
           session.get(Submission, submission_id, with_for_update=True, populate_existing=True))
    if sub is None:
        raise MergeError("submission_unknown")
    version, outcome.form_id, md5, account = _current_version(session, sub)
    outcome.version_id = version.id
    if sub.merged_version_id == version.id and not again:
        outcome.skipped, outcome.reason = True, "already_merged"
        return outcome
    if version.encrypted:
        # Stored, not decrypted: merging waits for the staff unlock step (domain.md 1.5 #3).
        sub.state = SubmissionState.STORED_ENCRYPTED
        outcome.skipped, outcome.reason = True, "encrypted"
        return outcome
    ctx, unfit = _context(session, sub, version, outcome, _repeats(session, version, md5),
                          _shape(session, version, md5))
    ctx.account = account
    handler = HANDLERS.get(outcome.form_id)
    if handler is None:
        raise MergeError("form_not_mergeable")
    try:
        handler(ctx)
    except MergeError as exc:
        _explain_missing_key(ctx, exc, unfit)
    if unfit or ctx.remerge:  # nothing to record or supersede on a clean first merge
        outcome.unfit_open = explained.record(session, sub, version, unfit)
    if ctx.listed is None or ctx.has_alert is None:
        session.flush()  # the case rows the handler wrote, read back by list_columns.stamp
    list_columns.stamp(session, sub, listed=None if ctx.remerge else ctx.listed,
                       has_alert=None if ctx.remerge else ctx.has_alert)
    sub.merged_version_id = version.id
    sub.merged_at = utcnow()
    sub.state = SubmissionState.MERGED
    sub.merge_error = None
    # Counted here so that the worker needs no statement of its own after the merge.
    sub.merge_attempts = (sub.merge_attempts or 0) + 1
    sub.updated_at = utcnow()
    session.flush()
    return outcome


def merge_lag_seconds(submission: Submission, version: SubmissionVersion) -> float | None:
    """Merge lag = merged_at - received_at of the merged version."""
    if submission.merged_at is None:
        return None
    return (submission.merged_at - version.received_at).total_seconds()
