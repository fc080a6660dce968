"""Referral rules of a merge (domain.md 3.4): a submission's alerts -> referrals, as a diff.

New alert -> attach to an open referral (same category and workplace, within 14 days) or open
one. An alert that an edit removed -> its source becomes inactive and the referral is marked
``source_edited``; nothing is closed automatically. The merge only opens referrals (status
NEW) and never touches closed ones; staff move them on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from server.db.models import (
    EntityType,
    Priority,
    Referral,
    ReferralCategory,
    ReferralSource,
    ReferralSourceKind,
    ReferralStatus,
    utcnow,
)
from server.sync import alerts as rules
from server.sync import cases
from server.sync.merge.context import MergeContext

#: Referrals from several sources about one workplace within this window share one referral.
ATTACH_WINDOW = timedelta(days=14)

_SOURCE_KIND = {
    rules.FORM_INTAKE: ReferralSourceKind.INTAKE,
    rules.FORM_VISIT: ReferralSourceKind.VISIT,
    rules.FORM_VILLAGE: ReferralSourceKind.VILLAGE_REPORT,
}


@dataclass
class Wanted:
    """The referral one alert key of this submission asks for."""

    category: str
    priority: str
    triggers: list[str]
    descriptor: dict[str, Any]
    workplace_ref: str | None


def group_alerts(alerts: list[rules.Alert]) -> dict[str, Wanted]:
    """Alerts by alert key: triggers gathered, urgent if any of them is. Pure."""
    wanted: dict[str, Wanted] = {}
    for a in alerts:
        w = wanted.get(a.alert_key)
        if w is None:
            wanted[a.alert_key] = Wanted(a.category, a.priority, [a.code], dict(a.descriptor),
                                         a.workplace_ref)
            continue
        if a.code not in w.triggers:
            w.triggers.append(a.code)
        if a.priority == rules.URGENT:
            w.priority = rules.URGENT
    return wanted


@dataclass(frozen=True)
class About:
    """What the submission's referrals are about."""

    workplace_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    village_code: str | None = None
    # Other submissions about the same event (village reports for the same village and month):
    # an alert they raised already is joined, never opened twice (issue 9 item 7).
    same_event: tuple[uuid.UUID, ...] = ()


def sync_referrals(ctx: MergeContext, alerts: list[rules.Alert], about: About) -> None:
    """Reconcile this submission's referrals with the alerts of its current version."""
    s = ctx.session
    wanted = group_alerts(alerts)
    # Only an earlier version of this submission can have raised alerts already.
    existing = {
        src.alert_key: src
        for src in s.scalars(
            select(ReferralSource).where(ReferralSource.submission_id == ctx.submission.id)
        )
    } if ctx.remerge else {}
    for key, src in existing.items():
        _reconcile_source(ctx, src, wanted.get(key))
    for key, w in wanted.items():
        if key not in existing:
            _raise_alert(ctx, key, w, about)
    if wanted or existing:
        s.flush()


def _reconcile_source(ctx: MergeContext, src: ReferralSource, w: Wanted | None) -> None:
    """An alert an earlier version raised: still raised (maybe with other triggers), or gone."""
    referral = ctx.session.get(Referral, src.referral_id, with_for_update=True)
    if w is None or w.category != referral.category.value:
        if src.active:
            src.active = False
            _mark_source_edited(ctx, referral)
        return
    removed = set(src.triggers) - set(w.triggers)
    if removed:
        _mark_source_edited(ctx, referral)
    src.active = True
    if src.triggers != w.triggers:
        src.triggers = list(w.triggers)
        src.submission_version_id = ctx.vid
    _absorb(ctx, referral, w)


def _raise_alert(ctx: MergeContext, key: str, w: Wanted, about: About) -> None:
    """A new alert: join an open referral or open one, and record this submission as a source."""
    s = ctx.session
    wp_id = about.workplace_id
    if w.workplace_ref:
        wp = cases.resolve_workplace(s, cases.as_uuid(w.workplace_ref))
        wp_id = wp.id if wp else wp_id
    referral = _open_referral_to_attach(ctx, w.category, wp_id, about.member_id)
    if referral is None and about.same_event:
        referral = _same_event_referral(ctx, key, w, about.same_event)
    if referral is None:
        referral = _open_referral(ctx, w, About(wp_id, about.member_id, about.village_code))
        ctx.outcome.referrals_created.append(referral.id)
    else:
        if referral.status != ReferralStatus.CLOSED:
            # A closed case stays as staff left it; the new source is still recorded on it.
            _absorb(ctx, referral, w)
        ctx.outcome.referrals_attached.append(referral.id)
    s.add(ReferralSource(
        referral_id=referral.id, submission_id=ctx.submission.id, submission_version_id=ctx.vid,
        alert_key=key, triggers=list(w.triggers), active=True, reporter_code=ctx.collector,
        event_date=ctx.event_date, created_at=utcnow(),
    ))


def _open_referral(ctx: MergeContext, w: Wanted, about: About) -> Referral:
    s = ctx.session
    referral = Referral(
        id=uuid.uuid4(),
        case_code=cases.new_case_code(s),
        category=ReferralCategory(w.category),
        triggers=list(w.triggers),
        source=_SOURCE_KIND.get(ctx.form_id, ReferralSourceKind.STAFF),
        status=ReferralStatus.NEW,
        priority=Priority(w.priority),
        restricted=w.category == ReferralCategory.CHILD_PROTECTION.value,
        workplace_id=about.workplace_id,
        village_code=about.village_code,
        member_id=about.member_id,
        person_descriptor={k: v for k, v in w.descriptor.items() if v is not None},
        event_date=ctx.event_date,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    s.add(referral)
    s.flush()
    cases.record_change(s, EntityType.REFERRAL, referral.id, "created", None,
                        ",".join(w.triggers), version_id=ctx.vid)
    return referral


def _absorb(ctx: MergeContext, referral: Referral, w: Wanted) -> None:
    """Add new triggers and raise priority; never removes a trigger (staff decide)."""
    triggers = list(referral.triggers) + [t for t in w.triggers if t not in referral.triggers]
    values: dict[str, Any] = {"triggers": triggers}
    if w.priority == rules.URGENT:
        values["priority"] = Priority.URGENT
    cases.set_fields(ctx.session, referral, EntityType.REFERRAL, values, version_id=ctx.vid)


def _mark_source_edited(ctx: MergeContext, referral: Referral) -> None:
    cases.set_fields(ctx.session, referral, EntityType.REFERRAL, {"source_edited": True},
                     version_id=ctx.vid)
    ctx.outcome.referrals_source_edited.append(referral.id)


def _open_referral_to_attach(
    ctx: MergeContext, category: str, workplace_id: uuid.UUID | None, member_id: uuid.UUID | None
) -> Referral | None:
    """The open referral this alert joins: same category, same workplace, not closed, with an
    event within 14 days. Referrals about two different known members stay apart."""
    if workplace_id is None:
        return None
    lo, hi = ctx.event_date - ATTACH_WINDOW, ctx.event_date + ATTACH_WINDOW
    if ctx.form_id == rules.FORM_VILLAGE:
        # A village report is dated by the first day of its month and covers the whole month.
        month_end = (ctx.event_date.replace(day=28) + timedelta(days=4)).replace(day=1)
        hi = month_end - timedelta(days=1) + ATTACH_WINDOW
    candidates = ctx.session.scalars(
        select(Referral).where(
            Referral.category == ReferralCategory(category),
            Referral.workplace_id == workplace_id,
            Referral.status != ReferralStatus.CLOSED,
            Referral.event_date >= lo,
            Referral.event_date <= hi,
        ).order_by(Referral.created_at).with_for_update()
    ).all()
    for referral in candidates:
        if member_id and referral.member_id and referral.member_id != member_id:
            continue
        return referral
    return None


def _same_event_referral(
    ctx: MergeContext, key: str, w: Wanted, submissions: tuple[uuid.UUID, ...]
) -> Referral | None:
    """The referral another report about the same village and month opened for this alert: the
    same alert (key) and category, else the same category and the same description of the
    person (a correction may list its concerns in another order)."""
    rows = ctx.session.execute(
        select(ReferralSource.alert_key, Referral)
        .join(Referral, Referral.id == ReferralSource.referral_id)
        .where(ReferralSource.submission_id.in_(submissions),
               Referral.category == ReferralCategory(w.category))
        .order_by(Referral.created_at, Referral.id)
    ).all()
    wanted = {k: v for k, v in w.descriptor.items() if v is not None}
    found = next((r for k, r in rows if k == key), None) or next(
        (r for _, r in rows if wanted and r.person_descriptor == wanted), None)
    if found is None:
        return None
    return ctx.session.get(Referral, found.id, with_for_update=True, populate_existing=True)
