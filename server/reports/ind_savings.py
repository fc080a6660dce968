"""Indicators from savings and livelihood records: 7 livelihood support, 8 savings books,
9 savers per group, 10 apprenticeships (domain.md 5)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from decimal import Decimal

from sqlalchemy import func, or_, select

from server.db.models import (
    Apprenticeship,
    ApprenticeshipOutcome,
    ApprenticeshipStatus,
    LivelihoodSupport,
    Member,
    Referral,
    ReferralCategory,
    SavingsBook,
    SavingsGroup,
    SavingsMembership,
    SavingsTransaction,
    TransactionKind,
)
from server.reports.context import ReportContext
from server.reports.figures import Indicator, rate


def livelihood(ctx: ReportContext) -> Indicator:
    p = ctx.period
    rows = ctx.session.execute(
        select(LivelihoodSupport.support_type, LivelihoodSupport.report_group,
               LivelihoodSupport.commune_code, LivelihoodSupport.member_id, Referral.category,
               Member.current_workplace_id)
        .outerjoin(Referral, Referral.id == LivelihoodSupport.referral_id)
        .outerjoin(Member, Member.id == LivelihoodSupport.member_id)
        .where(LivelihoodSupport.support_date.between(p.start, p.end))
    ).all()
    children = [r for r in rows if r.category == ReferralCategory.CHILD_PROTECTION]
    adults = [r for r in rows if r.category != ReferralCategory.CHILD_PROTECTION]
    ind = Indicator(7)
    ind.breakdown("livelihood supports given", {
        "support_type": Counter(str(r.support_type) for r in adults),
        "report_group": Counter(str(r.report_group) for r in adults),
        "commune": Counter(
            r.commune_code or ctx.commune_of_workplace(r.current_workplace_id) for r in adults
        ),
    }, len(adults))
    ind.breakdown("children supported (child-protection cases)", {
        "support_type": Counter(str(r.support_type) for r in children),
    }, len(children), child_protection=True)
    return ind


def savings_books(ctx: ReportContext) -> Indicator:
    p = ctx.period
    rows = ctx.session.execute(
        select(SavingsBook.holder_type, SavingsGroup.report_group, SavingsGroup.commune_code)
        .outerjoin(SavingsGroup, SavingsGroup.id == SavingsBook.group_id)
        .where(SavingsBook.issued_date.between(p.start, p.end))
    ).all()
    ind = Indicator(8)
    ind.breakdown("savings books issued", {
        "holder_type": Counter(str(r.holder_type) for r in rows),
        "report_group": Counter(str(r.report_group) if r.report_group else "no_group" for r in rows),
        "commune": Counter(r.commune_code or "unknown" for r in rows),
    }, len(rows))
    return ind


def _balances(ctx: ReportContext) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Members (canonical) with a deposit by period end, and with a balance above 0 in a currency."""
    savers: set[uuid.UUID] = set()
    balance: dict[tuple[uuid.UUID, str], Decimal] = defaultdict(Decimal)
    for member_id, kind, currency, total in ctx.session.execute(
        select(SavingsBook.member_id, SavingsTransaction.kind, SavingsTransaction.currency,
               func.sum(SavingsTransaction.amount))
        .join(SavingsBook, SavingsBook.id == SavingsTransaction.book_id)
        # Every deposit up to the period end is most of the table: read it in order on SQLite
        # rather than through the date index.
        .where(SavingsBook.member_id.is_not(None),
               ctx.no_index(SavingsTransaction.transaction_date) <= ctx.period.end)
        .group_by(SavingsBook.member_id, SavingsTransaction.kind, SavingsTransaction.currency)
    ):
        mid = ctx.member(member_id)
        if mid is None:
            continue
        sign = 1 if kind == TransactionKind.DEPOSIT else -1
        balance[(mid, str(currency))] += sign * Decimal(total)
        if kind == TransactionKind.DEPOSIT:
            savers.add(mid)
    positive = {mid for (mid, _), total in balance.items() if total > 0}
    return savers, positive


def savers_per_group(ctx: ReportContext) -> Indicator:
    p = ctx.period
    groups = ctx.session.execute(
        select(SavingsGroup.id, SavingsGroup.group_code, SavingsGroup.report_group,
               SavingsGroup.commune_code)
        .where(or_(SavingsGroup.formed_date.is_(None), SavingsGroup.formed_date <= p.end),
               or_(SavingsGroup.closed_date.is_(None), SavingsGroup.closed_date >= p.start))
    ).all()
    members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if groups:
        for gid, member_id in ctx.session.execute(
            select(SavingsMembership.group_id, SavingsMembership.member_id).where(
                SavingsMembership.group_id.in_([g.id for g in groups]),
                SavingsMembership.joined_date <= p.end,
                or_(SavingsMembership.left_date.is_(None), SavingsMembership.left_date > p.end),
            )
        ):
            if (mid := ctx.member(member_id)) is not None:
                members[gid].add(mid)
    savers, positive = _balances(ctx)
    ind = Indicator(9)
    slices: dict[str, list[uuid.UUID]] = defaultdict(list)
    for g in groups:
        for key in ("total", f"report_group:{g.report_group}", f"commune:{g.commune_code or 'unknown'}",
                    f"group:{g.group_code}"):
            slices[key].append(g.id)
    for key in ["total", *sorted(k for k in slices if k != "total")]:
        ids = slices.get(key, [])
        in_groups = [m for gid in ids for m in members[gid]]
        n_members, n_savers = len(in_groups), sum(1 for m in in_groups if m in savers)
        if not key.startswith("group:"):
            ind.add("savings groups", key, len(ids))
        ind.add("members at period end", key, n_members)
        ind.add("savers: members with at least one deposit by period end", key, n_savers)
        ind.add("share of members who saved (%)", key, rate(n_savers, n_members), base=n_members)
        ind.add("members with a balance above 0 at period end (to confirm with KWCD)", key,
                sum(1 for m in in_groups if m in positive))
    return ind


def apprenticeships(ctx: ReportContext) -> Indicator:
    p = ctx.period
    rows = ctx.session.execute(
        select(Apprenticeship.member_id, Apprenticeship.workplace_id, Apprenticeship.report_group,
               Apprenticeship.status, Apprenticeship.outcome)
        .where(Apprenticeship.start_date.between(p.start, p.end))
    ).all()
    ind = Indicator(10)
    hosts = {ctx.workplace(r.workplace_id) for r in rows}
    ind.breakdown("host workplaces", {"commune": Counter(ctx.commune_of_workplace(h) for h in hosts)},
                  len(hosts))
    people: dict[str, set[uuid.UUID]] = defaultdict(set)
    for r in rows:
        if (mid := ctx.member(r.member_id)) is not None:
            commune = ctx.commune_of_workplace(r.workplace_id)
            for key in ("", f"report_group:{r.report_group}", f"commune:{commune}"):
                people[key].add(mid)
    by: dict[str, dict[str, int]] = {"report_group": {}, "commune": {}}
    for key, ids in people.items():
        if key:
            dim, _, value = key.partition(":")
            by[dim][value] = len(ids)
    ind.breakdown("women in apprenticeships (distinct)", by, len(people.get("", ())))
    completed = [r for r in rows if r.status == ApprenticeshipStatus.COMPLETED]
    ind.breakdown("apprenticeships completed",
                  {"report_group": Counter(str(r.report_group) for r in completed)}, len(completed))
    business = [r for r in rows if r.outcome == ApprenticeshipOutcome.OWN_BUSINESS]
    ind.breakdown("businesses started", {"report_group": Counter(str(r.report_group) for r in business)},
                  len(business))
    return ind
