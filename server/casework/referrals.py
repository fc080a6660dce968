"""Referral case management: new -> acknowledged -> referred -> closed, assignment, notes, timing.

A referral is opened by the merge (alerts, domain.md 3.4); from then on staff move it:
acknowledge (triage), refer to a service (``referral_services``), close with an outcome and
the service that gave it (``outcome_by``, for indicators 6, 12 and 13). A case that turns out
unfounded can be closed without being referred; a closed case can be reopened. Every step is a
``ReferralEvent`` with its note and an audit entry, and bumps ``row_version`` (the ETag).

Callers load the referral through ``queries.get_referral`` (role visibility: 404 for
child-protection cases outside that role) before calling these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import errors
from server.accounts import access
from server.accounts.staff import audit
from server.casework.submission_review import clean_note
from server.db.models import (
    ReferralEvent,
    ReferralEventKind,
    ReferralService,
    StaffUser,
    utcnow,
)
from server.db.models.cases import Priority, Referral, ReferralStatus

URGENT_TARGET = timedelta(hours=24)  # domain.md 1.6: urgent cases are triaged within 24 h

OUTCOMES = (
    "service_received",  # counted by indicator 6 (health) and in indicator 12's outcomes
    "service_not_received",
    "declined",
    "not_substantiated",
    "lost_contact",
    "moved",
)
# Outcomes that say a service was (or was not) given need the service; the others do not.
SERVICE_OUTCOMES = ("service_received", "service_not_received")

_NEXT: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    ReferralStatus.NEW: (ReferralStatus.ACKNOWLEDGED, ReferralStatus.CLOSED),
    ReferralStatus.ACKNOWLEDGED: (ReferralStatus.REFERRED, ReferralStatus.CLOSED),
    ReferralStatus.REFERRED: (ReferralStatus.REFERRED, ReferralStatus.CLOSED),
    ReferralStatus.CLOSED: (ReferralStatus.ACKNOWLEDGED,),
}


def etag(referral: Referral) -> str:
    return f'"referral-{referral.id.hex}-{referral.row_version}"'


def allowed_steps(referral: Referral) -> tuple[ReferralStatus, ...]:
    return _NEXT[referral.status]


def _step(
    session: Session, actor: StaffUser, referral: Referral, to: ReferralStatus, kind: ReferralEventKind,
    note: str | None, detail: dict[str, Any], request_id: str | None,
) -> ReferralEvent:
    if not access.can_work_cases(actor.role):
        raise errors.StaffForbidden()
    if to not in _NEXT[referral.status]:
        raise errors.ReferralTransitionInvalid()
    event = ReferralEvent(referral_id=referral.id, kind=kind, from_status=referral.status.value,
                          to_status=to.value, note=clean_note(note), detail=detail,
                          actor_id=actor.id, at=utcnow())
    session.add(event)
    referral.status = to
    _touch(referral, event.at)
    session.flush()
    audit(session, actor, f"referral.{kind.value}", "referral", [referral.id], request_id=request_id)
    return event


def _touch(referral: Referral, at: datetime) -> None:
    referral.updated_at = at
    referral.row_version = (referral.row_version or 1) + 1


def acknowledge(session: Session, actor: StaffUser, referral: Referral, note: str | None = None,
                request_id: str | None = None) -> ReferralEvent:
    """Staff have seen and triaged the case (the 24-hour target stops here)."""
    event = _step(session, actor, referral, ReferralStatus.ACKNOWLEDGED, ReferralEventKind.ACKNOWLEDGED,
                  note, {}, request_id)
    referral.acknowledged_at = referral.acknowledged_at or event.at
    return event


def service(session: Session, code: str | None) -> ReferralService:
    found = session.get(ReferralService, code) if code else None
    if found is None or not found.active:
        raise errors.ReferralServiceUnknown()
    return found


def refer(session: Session, actor: StaffUser, referral: Referral, referred_to: str,
          note: str | None = None, request_id: str | None = None) -> ReferralEvent:
    """Referred to a service (a ``referral_services`` code); referring again changes the service."""
    svc = service(session, referred_to)
    event = _step(session, actor, referral, ReferralStatus.REFERRED, ReferralEventKind.REFERRED,
                  note, {"referred_to": svc.code}, request_id)
    referral.referred_to = svc.code
    referral.referred_at = event.at
    return event


def close(session: Session, actor: StaffUser, referral: Referral, outcome: str, outcome_by: str | None = None,
          note: str | None = None, request_id: str | None = None) -> ReferralEvent:
    """Closed with an outcome; a service outcome names the service that gave it (default: the
    one the case was referred to)."""
    if outcome not in OUTCOMES:
        raise errors.ReferralOutcomeInvalid()
    provider = None
    if outcome in SERVICE_OUTCOMES:
        provider = service(session, outcome_by or referral.referred_to).code
    elif outcome_by:
        provider = service(session, outcome_by).code
    event = _step(session, actor, referral, ReferralStatus.CLOSED, ReferralEventKind.CLOSED, note,
                  {"outcome": outcome, "outcome_by": provider}, request_id)
    referral.outcome = outcome
    referral.outcome_by = provider
    referral.closed_at = event.at
    return event


def reopen(session: Session, actor: StaffUser, referral: Referral, note: str | None = None,
           request_id: str | None = None) -> ReferralEvent:
    """A closed case back to acknowledged (its outcome is cleared; the history keeps it)."""
    event = _step(session, actor, referral, ReferralStatus.ACKNOWLEDGED, ReferralEventKind.REOPENED,
                  note, {"outcome": referral.outcome}, request_id)
    referral.outcome = None
    referral.outcome_by = None
    referral.closed_at = None
    return event


def can_take(assignee: StaffUser, referral: Referral) -> bool:
    return (assignee.active and access.can_work_cases(assignee.role)
            and access.referral_visible(assignee.role, referral.category, referral.restricted))


def assign(session: Session, actor: StaffUser, referral: Referral, assignee: StaffUser | None,
           note: str | None = None, request_id: str | None = None) -> ReferralEvent:
    """Give the case to a case worker who may see it (None: unassign)."""
    if not access.can_work_cases(actor.role):
        raise errors.StaffForbidden()
    if assignee is not None and not can_take(assignee, referral):
        raise errors.ReferralAssigneeInvalid()
    kind = ReferralEventKind.ASSIGNED if assignee else ReferralEventKind.UNASSIGNED
    event = ReferralEvent(referral_id=referral.id, kind=kind, note=clean_note(note),
                          detail={"assignee_id": assignee.id if assignee else None,
                                  "previous_id": referral.assigned_to_id},
                          actor_id=actor.id, at=utcnow())
    session.add(event)
    referral.assigned_to_id = assignee.id if assignee else None
    _touch(referral, event.at)
    session.flush()
    audit(session, actor, f"referral.{kind.value}", "referral", [referral.id], request_id=request_id)
    return event


def add_note(session: Session, actor: StaffUser, referral: Referral, text: str,
             request_id: str | None = None) -> ReferralEvent:
    if not access.can_work_cases(actor.role):
        raise errors.StaffForbidden()
    body = clean_note(text)
    if body is None:
        raise errors.NoteEmpty()
    event = ReferralEvent(referral_id=referral.id, kind=ReferralEventKind.NOTE, note=body, detail={},
                          actor_id=actor.id, at=utcnow())
    session.add(event)
    referral.updated_at = event.at
    session.flush()
    audit(session, actor, "referral.note", "referral", [referral.id], request_id=request_id)
    return event


def history(session: Session, referral: Referral) -> list[ReferralEvent]:
    return list(session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                                .order_by(ReferralEvent.at, ReferralEvent.id)))


@dataclass(frozen=True)
class Timing:
    age: timedelta  # since the referral was opened
    target_hours: int | None  # 24 for urgent cases, else None
    time_to_acknowledge: timedelta | None
    overdue: bool  # urgent and not acknowledged within the target


def referral_timing(referral: Referral, now: datetime) -> Timing:
    urgent = referral.priority == Priority.URGENT
    acked = referral.acknowledged_at
    waited = (acked or now) - referral.created_at
    return Timing(
        age=now - referral.created_at,
        target_hours=int(URGENT_TARGET.total_seconds() // 3600) if urgent else None,
        time_to_acknowledge=acked - referral.created_at if acked else None,
        overdue=urgent and acked is None and referral.status == ReferralStatus.NEW and waited > URGENT_TARGET,
    )


def services(session: Session) -> list[ReferralService]:
    return list(session.scalars(select(ReferralService).where(ReferralService.active.is_(True))
                                .order_by(ReferralService.kind, ReferralService.code)))


@dataclass(frozen=True)
class SourceView:
    """A submission that raised or joined the referral. `reporter_code` is None unless asked for
    (reporter protection, domain.md 1.5.5)."""

    submission_id: Any
    instance_id: str
    form_id: str
    alert_key: str
    triggers: list[str]
    active: bool
    event_date: Any
    reporter_code: str | None


def referral_sources(session: Session, actor: StaffUser, referral: Referral, with_reporter: bool,
                     reason: str | None = None, request_id: str | None = None) -> list[SourceView]:
    """The sources of a referral; the reporter's code only when `with_reporter` (the caller has
    checked PII access), and then the read is audited."""
    from server.db.models import Form, Submission, SubmissionVersion
    from server.db.models.cases import ReferralSource

    rows = session.execute(
        select(ReferralSource, SubmissionVersion.instance_id, Form.xml_form_id)
        .join(Submission, Submission.id == ReferralSource.submission_id)
        .join(Form, Form.id == Submission.form_id)
        .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id)
              & SubmissionVersion.is_current.is_(True))
        .where(ReferralSource.referral_id == referral.id)
        .order_by(ReferralSource.id)
    ).all()
    if with_reporter and rows:
        audit(session, actor, "referral.reporter.read", "referral", [referral.id], reason=reason,
              request_id=request_id)
    return [SourceView(src.submission_id, iid, form, src.alert_key, list(src.triggers), src.active,
                       src.event_date, src.reporter_code if with_reporter else None)
            for src, iid, form in rows]
