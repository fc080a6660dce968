"""Indicators from referrals: 6 women helped to health services, 11 hotline reports,
12 referrals, 13 child-protection cases (domain.md 5).

Referral workflow names (statuses new/acknowledged/referred/closed, ``outcome``,
``acknowledged_at``) are those of the casework workflow; a column the database does not have yet
gives no figure (None) rather than a wrong one.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import or_, select

from server.db.models import (
    Referral,
    ReferralCategory,
    ReferralReport,
    ReferralSource,
    ReportChannel,
    ReporterType,
    Workplace,
)
from server.reports import scope
from server.reports.context import ReportContext
from server.reports.figures import Indicator, rate, report_group

CP = ReferralCategory.CHILD_PROTECTION.value
WORKPLACE_GROUP = {"brothel": "prostitution", "karaoke": "karaoke"}


def counted_referrals(ctx: ReportContext) -> list[Any]:
    """Referrals whose event date is in the period, leaving out those raised only by rejected
    or training submissions (and child-protection ones when the reader may not see them)."""
    p = ctx.period
    start = datetime.combine(p.start, time.min, tzinfo=UTC)
    with_sources = select(ReferralSource.referral_id)
    counted_sources = select(ReferralSource.referral_id).where(
        ctx.counted(ReferralSource.submission_id)
    )
    acknowledged = getattr(Referral, "acknowledged_at", None)
    columns = [Referral.id, Referral.category, Referral.source, Referral.status, Referral.priority,
               Referral.restricted, Referral.member_id, Referral.workplace_id, Referral.village_code,
               Referral.event_date, Referral.created_at, Referral.outcome, Workplace.type.label("wp_type")]
    if acknowledged is not None:
        columns.append(acknowledged.label("acknowledged_at"))
    stmt = (
        select(*columns)
        .outerjoin(Workplace, Workplace.id == Referral.workplace_id)
        .where(
            or_(Referral.event_date.between(p.start, p.end),
                Referral.event_date.is_(None) & (Referral.created_at >= start)
                & (Referral.created_at < scope.end_of_day(p.end))),
            or_(Referral.id.not_in(with_sources), Referral.id.in_(counted_sources)),
        )
    )
    rows = ctx.session.execute(stmt).all()
    if not ctx.child_visible:
        rows = [r for r in rows if not is_child(r)]
    return rows


def is_child(row: Any) -> bool:
    return bool(row.restricted) or str(row.category) == CP


def event_day(row: Any) -> Any:
    return row.event_date or row.created_at.date()


def referral_commune(ctx: ReportContext, row: Any) -> str:
    if row.workplace_id is not None:
        commune = ctx.commune_of_workplace(row.workplace_id)
        if commune != "unknown":
            return commune
    return scope.commune_of_village(row.village_code) or "unknown"


def referral_groups(ctx: ReportContext, rows: list[Any]) -> dict[uuid.UUID, str]:
    """Report group recorded on the event: the member's sector on the referral's date, else the
    type of the workplace it is about, else other."""
    wanted = [(m, event_day(r)) for r in rows if (m := ctx.member(r.member_id)) is not None]
    sectors = scope.member_values_at(ctx.session, "sector", wanted)
    out = {}
    for r in rows:
        mid = ctx.member(r.member_id)
        if mid is not None:
            out[r.id] = report_group(sectors.get((mid, event_day(r))))
        else:
            out[r.id] = WORKPLACE_GROUP.get(r.wp_type or "", "other")
    return out


def health_access(ctx: ReportContext, rows: list[Any]) -> Indicator:
    received = [r for r in rows if str(r.category) == ReferralCategory.HEALTH.value
                and r.outcome == "service_received" and ctx.member(r.member_id) is not None]
    groups = referral_groups(ctx, received)
    women: dict[str, set[uuid.UUID]] = defaultdict(set)
    for r in received:
        mid = ctx.member(r.member_id)
        assert mid is not None
        women[f"report_group:{groups[r.id]}"].add(mid)
        if groups[r.id] == "prostitution":
            women[""].add(mid)
            women[f"commune:{referral_commune(ctx, r)}"].add(mid)
    ind = Indicator(6)
    by: dict[str, dict[str, int]] = {"report_group": {}, "commune": {}}
    for key, ids in women.items():
        if key:
            dim, _, value = key.partition(":")
            by[dim][value] = len(ids)
    ind.breakdown("women in prostitution who received a health service", by, len(women.get("", ())))
    return ind


def hotline(ctx: ReportContext, rows: list[Any]) -> Indicator:
    p = ctx.period
    counted = {r.id: r for r in rows}
    # A hotline report counts on the day the call was made (reported_on), within the period.
    reports = [
        (rid, reporter) for rid, reporter, day in ctx.session.execute(
            select(ReferralReport.referral_id, ReferralReport.reporter_type, ReferralReport.reported_on)
            .where(ReferralReport.channel == ReportChannel.POLICE_HOTLINE)
        ) if p.start <= day <= p.end
    ]
    visible = ctx.child_visible
    calls = [(counted.get(rid), str(rep)) for rid, rep in reports]
    calls = [(r, rep) for r, rep in calls if r is not None or visible]
    ind = Indicator(11)
    by_reporter = Counter(rep for _, rep in calls)
    for known in ReporterType:
        by_reporter.setdefault(known.value, 0)
    ind.breakdown("hotline reports known to KWCD", {
        "reporter_type": by_reporter,
        "category": Counter(str(r.category) if r is not None else "unknown" for r, _ in calls),
        "commune": Counter(referral_commune(ctx, r) if r is not None else "unknown" for r, _ in calls),
    }, len(calls))
    from_network = by_reporter[ReporterType.MEMBER.value] + by_reporter[ReporterType.PEER_EDUCATOR.value]
    ind.add("share reported by members and peer educators (%)", "total", rate(from_network, len(calls)),
            base=len(calls))
    return ind


def _median_hours(rows: list[Any]) -> float | None:
    hours = [(r.acknowledged_at - r.created_at).total_seconds() / 3600 for r in rows
             if getattr(r, "acknowledged_at", None) is not None]
    return round(statistics.median(hours), 1) if hours else None


def referrals(ctx: ReportContext, rows: list[Any]) -> Indicator:
    ind = Indicator(12)
    ind.breakdown("referrals", {
        "category": Counter(str(r.category) for r in rows),
        "source": Counter(str(r.source) for r in rows),
        "status": Counter(str(r.status) for r in rows),
        "priority": Counter(str(r.priority) for r in rows),
        "commune": Counter(referral_commune(ctx, r) for r in rows),
    }, len(rows))
    acked = [r for r in rows if getattr(r, "acknowledged_at", None) is not None]
    urgent = [r for r in acked if str(r.priority) == "urgent"]
    ind.add("median hours from creation to acknowledgement", "total", _median_hours(acked), base=len(acked))
    ind.add("median hours from creation to acknowledgement", "priority:urgent", _median_hours(urgent),
            base=len(urgent))
    closed = [r for r in rows if str(r.status) == "closed"]
    ind.breakdown("closed referrals", {"outcome": Counter(r.outcome or "not_recorded" for r in closed)},
                  len(closed))
    return ind


def child_protection(ctx: ReportContext, rows: list[Any]) -> Indicator:
    cases = [r for r in rows if is_child(r)]
    identified = {m for r in cases if (m := ctx.member(r.member_id)) is not None}
    anonymous = sum(1 for r in cases if r.member_id is None)
    ind = Indicator(13)
    ind.breakdown("child-protection cases", {
        "source": Counter(str(r.source) for r in cases),
        "commune": Counter(referral_commune(ctx, r) for r in cases),
    }, len(cases), child_protection=True)
    ind.add("distinct identified children", "total", len(identified), child_protection=True)
    ind.add("anonymous alerts (cannot be deduplicated)", "total", anonymous, child_protection=True)
    return ind
