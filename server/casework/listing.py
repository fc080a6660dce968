"""The staff submission list: filters, role visibility and paging that stays fast at 100,000 rows.

A submission's event date, commune and "raised an alert" are columns of the submission, set by
its merge from the case rows it wrote (sync.merge.list_columns), each indexed with the sort key;
the list is ordered and cut by those indexes or `ix_submissions_created_at_id` and counted with
a cap instead of walking every row.

Submissions that raised a child-protection referral are invisible to every role but
child_protection (domain.md 1.5.4; the answers would say that a child was met).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, union_all
from sqlalchemy.orm import Session

from server.accounts import access
from server.db.models import (
    Collector,
    Form,
    StaffRole,
    Submission,
    SubmissionState,
    SubmissionVersion,
    UnfitAnswer,
    UnfitStatus,
)
from server.db.models.cases import (
    Referral,
    ReferralCategory,
    ReferralSource,
)

COUNT_CAP = 1_000  # totals above this are shown as "1,000+": counting every match costs a scan


@dataclass(frozen=True)
class SubmissionFilter:
    form_id: str | None = None  # xml form id, e.g. workplace_visit
    collector: str | None = None  # collector account name or the form's `collector` code
    commune: str | None = None  # 6-digit commune code
    event_from: date | None = None
    event_to: date | None = None
    review_state: str | None = None
    has_alert: bool | None = None
    state: str | None = None  # merge state (received, merged, merge_failed...)
    to_correct: bool | None = None  # has answers the merge could not use, waiting for staff


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


@dataclass(frozen=True)
class SubmissionRow:
    submission: Submission
    form_id: str
    instance_id: str
    collector: str | None  # account that sent it
    collector_code: str | None  # who filled it in (form field)
    event_date: date | None
    commune: str | None
    has_alert: bool
    received_at: datetime


@dataclass(frozen=True)
class Listing:
    rows: list[SubmissionRow]
    total: int
    total_capped: bool  # True when there are more than COUNT_CAP matches


def _restricted_referral() -> ColumnElement[bool]:
    return or_(Referral.restricted.is_(True), Referral.category == ReferralCategory.CHILD_PROTECTION)


def restricted_submission() -> ColumnElement[bool]:
    """True for a submission that is a source of a child-protection referral."""
    return exists(
        select(ReferralSource.id)
        .join(Referral, Referral.id == ReferralSource.referral_id)
        .where(ReferralSource.submission_id == Submission.id, _restricted_referral())
    )


def visible_to(stmt: Select[Any], role: StaffRole) -> Select[Any]:
    return stmt if access.sees_restricted_referrals(role) else stmt.where(~restricted_submission())


def _by_collector(name: str) -> ColumnElement[bool]:
    """Sent by that account, or filled in by that collector code (any version): two index scans."""
    account = select(Collector.id).where(Collector.name == name).scalar_subquery()
    ids = union_all(
        select(SubmissionVersion.submission_id).where(SubmissionVersion.submitted_by_id == account),
        select(SubmissionVersion.submission_id).where(SubmissionVersion.collector_code == name),
    )
    return Submission.id.in_(ids)


def filtered(role: StaffRole, f: SubmissionFilter) -> Select[tuple[Submission]]:
    """The submissions `role` may see that match `f` (unordered)."""
    stmt = select(Submission)
    if f.form_id:
        stmt = stmt.where(Submission.form_id.in_(select(Form.id).where(Form.xml_form_id == f.form_id)))
    if f.review_state:
        stmt = stmt.where(Submission.review_state == f.review_state)
    if f.state:
        stmt = stmt.where(Submission.state == f.state)
    if f.collector:
        stmt = stmt.where(_by_collector(f.collector))
    if f.commune:
        stmt = stmt.where(Submission.commune_code == f.commune)
    if f.event_from:
        # A monthly report overlaps the range when its month does: it is stored as the month's
        # first day, so the index range starts there and days before `event_from` are dropped after.
        first = f.event_from.replace(day=1)
        stmt = stmt.where(Submission.event_date >= first,
                          or_(Submission.event_date >= f.event_from, Submission.event_month.is_(True)))
    if f.event_to:
        stmt = stmt.where(Submission.event_date <= f.event_to)
    if f.has_alert is not None:
        stmt = stmt.where(Submission.has_alert.is_(f.has_alert))
    if f.to_correct is not None:
        waiting = Submission.id.in_(select(UnfitAnswer.submission_id).where(
            UnfitAnswer.status == UnfitStatus.OPEN))
        stmt = stmt.where(waiting if f.to_correct else ~waiting)
    return visible_to(stmt, role)


def matching_ids(session: Session, role: StaffRole, f: SubmissionFilter, limit: int) -> list[uuid.UUID]:
    stmt = filtered(role, f).with_only_columns(Submission.id).order_by(Submission.created_at, Submission.id)
    return list(session.scalars(stmt.limit(limit)))


def count(session: Session, role: StaffRole, f: SubmissionFilter, cap: int = COUNT_CAP) -> tuple[int, bool]:
    inner = filtered(role, f).with_only_columns(Submission.id).limit(cap + 1).subquery()
    n = session.scalar(select(func.count()).select_from(inner)) or 0
    return min(n, cap), n > cap


def list_submissions(session: Session, role: StaffRole, filters: SubmissionFilter, page: Page) -> Listing:
    """One page of matching submissions, newest first, with what the list shows of each.

    Within the first COUNT_CAP matches one query gives both the page and the (capped) total:
    the ids of up to COUNT_CAP + 1 matches in list order, so the filters are evaluated once."""
    ordered = (filtered(role, filters).with_only_columns(Submission.id)
               .order_by(Submission.created_at.desc(), Submission.id.desc()))
    if page.offset + page.limit <= COUNT_CAP:
        ids = list(session.scalars(ordered.limit(COUNT_CAP + 1)))
        total, capped = min(len(ids), COUNT_CAP), len(ids) > COUNT_CAP
        page_ids = ids[page.offset:page.offset + page.limit]
    else:
        page_ids = list(session.scalars(ordered.offset(page.offset).limit(page.limit)))
        total, capped = count(session, role, filters)
    by_id = {s.id: s for s in session.scalars(select(Submission).where(Submission.id.in_(page_ids)))}
    return Listing(describe(session, [by_id[i] for i in page_ids if i in by_id]), total, capped)


def describe(session: Session, subs: Sequence[Submission]) -> list[SubmissionRow]:
    """The list columns of these submissions, in a fixed number of queries."""
    ids = [s.id for s in subs]
    if not ids:
        return []
    forms = dict(session.execute(select(Form.id, Form.xml_form_id).where(
        Form.id.in_({s.form_id for s in subs}))).all())
    current = {
        sid: (iid, name, code)
        for sid, iid, name, code in session.execute(
            select(SubmissionVersion.submission_id, SubmissionVersion.instance_id, Collector.name,
                   SubmissionVersion.collector_code)
            .join(Collector, Collector.id == SubmissionVersion.submitted_by_id)
            .where(SubmissionVersion.submission_id.in_(ids), SubmissionVersion.is_current.is_(True))
        )
    }
    rows = []
    for s in subs:
        iid, name, code = current.get(s.id, (s.root_instance_id, None, None))
        rows.append(SubmissionRow(s, forms[s.form_id], iid, name, code, s.event_date, s.commune_code,
                                  s.has_alert, s.created_at))
    return rows


def get_visible(session: Session, role: StaffRole, instance_id: str) -> Submission | None:
    """A submission by the instanceID of any of its versions, if `role` may see it."""
    # Two indexed lookups, not one OR: PostgreSQL cannot use an index for `id IN (...) OR ...`
    # and scanned every submission (30 ms at 100,000).
    sid = session.scalar(
        select(SubmissionVersion.submission_id).where(SubmissionVersion.instance_id == instance_id).limit(1)
    )
    where = Submission.id == sid if sid is not None else Submission.root_instance_id == instance_id
    return session.scalar(visible_to(select(Submission).where(where), role).limit(1))


def failed_merges(role: StaffRole) -> Select[Any]:
    return visible_to(select(Submission.id).where(Submission.state == SubmissionState.MERGE_FAILED), role)


def is_restricted(session: Session, submission: Submission) -> bool:
    stmt = select(ReferralSource.id).join(Referral, Referral.id == ReferralSource.referral_id).where(
        and_(ReferralSource.submission_id == submission.id, _restricted_referral()))
    return session.scalar(stmt.limit(1)) is not None
