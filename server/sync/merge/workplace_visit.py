"""workplace_visit -> the workplace entity update, a monitoring visit with its risk and
triggers, the members it names, the workplace's risk, and referrals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.models import (
    Collector,
    ConflictKind,
    EntityConflict,
    EntityType,
    MonitoringVisit,
    Priority,
    Referral,
    ReferralCategory,
    ReferralStatus,
    RiskLevel,
    VisitMember,
    Workplace,
    WorkplaceVersion,
    utcnow,
)
from server.sync import alerts as rules
from server.sync import cases
from server.sync.merge.context import MergeContext
from server.sync.merge.duplicate_visits import flag_possible_duplicate
from server.sync.merge.entity_update import apply_entity_update
from server.sync.merge.referrals import About, sync_referrals
from server.sync.merge.workplaces import TypedWorkplace, workplace_candidate


def _visit_properties(ctx: MergeContext) -> dict[str, Any]:
    """The entity properties this visit saves (save_to), as sent (text)."""
    return {
        "last_visit_date": ctx.s("visit_date"),
        "last_access": ctx.s("access"),
        "workers_est": ctx.s("n_workers_est"),
    }


def _visit_workplace(ctx: MergeContext, visit: MonitoringVisit | None) -> Workplace | None:
    s = ctx.session
    in_list = ctx.s("workplace_in_list")
    # pyxform writes update="1" whatever update_if says, so the answer decides, not the flag.
    if in_list == "yes" or (in_list is None and ctx.entity and ctx.entity.entity_id):
        wp_id = cases.as_uuid(ctx.s("workplace")) or (ctx.entity.entity_id if ctx.entity else None)
        # Locked: its entity version is read and bumped. Merged workplaces are followed.
        wp = s.get(Workplace, wp_id, with_for_update=True, populate_existing=True) if wp_id else None
        if wp is not None and wp.merged_into_workplace_id is not None:
            wp = cases.resolve_workplace(s, wp.id)
            if wp is not None:
                wp = s.get(Workplace, wp.id, with_for_update=True, populate_existing=True)
        return wp
    if visit is not None and visit.workplace_id is not None:
        return s.get(Workplace, visit.workplace_id)
    typed = _typed_workplace(ctx)
    return workplace_candidate(ctx, typed) if typed is not None else None


def _typed_workplace(ctx: MergeContext) -> TypedWorkplace | None:
    """A workplace not in the list, as the visit describes it."""
    name_km, name_latin = ctx.s("wp_new_name_km"), ctx.s("wp_new_name_latin")
    if not (name_km or name_latin):
        return None
    village = ctx.s("wp_village")
    if village and village.startswith("unk-"):
        village = None
    geo = None
    loc = (ctx.s("wp_location") or "").split()
    if len(loc) >= 2:
        try:
            geo = (float(loc[0]), float(loc[1]))
        except ValueError:
            geo = None
    return TypedWorkplace(name_km, name_latin, ctx.s("wp_new_type"), village, ctx.s("wp_commune"),
                          ctx.s("wp_landmark"), geo)


def _outside_account_area(ctx: MergeContext, wp: Workplace) -> bool:
    """The workplace is in a commune the submitting account does not work in. A workplace
    with no commune yet cannot be judged and is updated."""
    account = ctx.session.get(Collector, ctx.version.submitted_by_id)
    return bool(wp.commune_code and account is not None
                and wp.commune_code not in account.commune_codes)


def _keep_out_of_area_update(ctx: MergeContext, wp: Workplace) -> None:
    """Do not change a workplace outside the collector's communes; keep the update as a
    conflict staff see with its reason (the properties it would have set are in the visit)."""
    s = ctx.session
    if ctx.remerge and s.scalar(select(EntityConflict.id).where(
        EntityConflict.submission_id == ctx.submission.id,
        EntityConflict.kind == ConflictKind.OUT_OF_AREA,
    )) is not None:
        return
    entity = ctx.entity
    conflict = EntityConflict(
        entity_type=EntityType.WORKPLACE, entity_id=wp.id,
        base_version=entity.base_version if entity else None, server_version=wp.version,
        applied_version=None, kind=ConflictKind.OUT_OF_AREA,
        properties=sorted(_visit_properties(ctx)), branch_id=entity.branch_id if entity else None,
        submission_id=ctx.submission.id, submission_version_id=ctx.vid, created_at=utcnow(),
    )
    s.add(conflict)
    wp.has_conflict = True
    s.flush()
    ctx.outcome.conflicts.append(conflict.id)


def _update_entity(ctx: MergeContext, wp: Workplace) -> None:
    """Apply the visit's entity properties unless this version of it already did."""
    props = _visit_properties(ctx)
    if not ctx.remerge:
        apply_entity_update(ctx, wp, props, ctx.entity)
        return
    applied = ctx.session.scalars(
        select(WorkplaceVersion.properties).where(
            WorkplaceVersion.workplace_id == wp.id,
            WorkplaceVersion.submission_id == ctx.submission.id,
        ).order_by(WorkplaceVersion.version.desc()).limit(1)
    ).first()
    if applied != props:
        apply_entity_update(ctx, wp, props, ctx.entity)


def _previous_access(ctx: MergeContext, wp: Workplace | None) -> str | None:
    """Access at the workplace's visit before this one (by visit date)."""
    if wp is None:
        return None
    return ctx.session.scalars(
        select(MonitoringVisit.access).where(
            MonitoringVisit.workplace_id == wp.id,
            MonitoringVisit.submission_id != ctx.submission.id,
            MonitoringVisit.visit_date <= ctx.event_date,
            # The same collector's other visit that day is a possible duplicate of this one
            # (sent twice), not "the visit before": it must not make a refusal count twice.
            or_(MonitoringVisit.visit_date < ctx.event_date, MonitoringVisit.pe_code.is_(None),
                MonitoringVisit.pe_code != (ctx.collector or "")),
        ).order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.created_at.desc()).limit(1)
    ).first()


def _risk_and_triggers(ctx: MergeContext, previous_access: str | None) -> tuple[str, list[str]]:
    risk = rules.visit_risk(ctx.answers)
    triggers = [a.code for a in rules.visit_alerts(ctx.answers)]
    if rules.access_refused_twice(ctx.answers, previous_access):
        triggers.append("ACC")
        if risk == "green":
            risk = "amber"
    indicators = rules.visit_indicators(ctx.answers)
    if len(indicators & rules.OTHER_INDICATORS) == 1 and not indicators & rules.STRONG_INDICATORS:
        triggers.append("FL-1")
    return risk, sorted(set(triggers))


_DETAILS = (
    "live_on_site", "locked_in", "forced_drinking", "shift_hours", "days_off", "pay_type",
    "condoms_available", "training_allowed", "fl_source", "u18_signs",
)  # fmt: skip


def _visit_values(ctx: MergeContext, wp: Workplace | None) -> dict[str, Any]:
    risk, triggers = _risk_and_triggers(ctx, _previous_access(ctx, wp))
    hotline = ctx.s("hotline_called")
    return {
        "workplace_id": wp.id if wp else None,
        "pe_code": ctx.collector,
        "visit_date": ctx.d("visit_date") or ctx.event_date,
        "visit_type": ctx.s("visit_type"),
        "access": ctx.s("access"),
        "manager_attitude": ctx.s("manager_attitude"),
        "n_workers_est": ctx.i("n_workers_est"),
        "n_met": ctx.i("n_met"),
        "n_members_present": ctx.i("n_members_present"),
        "u18_suspected": ctx.s("u18_suspected"),
        "n_u18": ctx.i("n_u18"),
        "indicators": sorted(rules.visit_indicators(ctx.answers)),
        "activities": sorted((ctx.s("activities") or "").split()),
        "n_leaflets": ctx.i("n_leaflets"),
        "hotline_called": None if hotline is None else hotline == "yes",
        "pe_safety": ctx.s("pe_safety"),
        "risk_level": RiskLevel(risk),
        "triggers": triggers,
        "details": {k: ctx.s(k) for k in _DETAILS if ctx.s(k) is not None},
    }


def merge_visit(ctx: MergeContext) -> None:
    s = ctx.session
    sub = ctx.submission
    visit = s.scalar(
        select(MonitoringVisit).where(MonitoringVisit.submission_id == sub.id)
    ) if ctx.remerge else None
    wp = _visit_workplace(ctx, visit)
    if wp is not None and ctx.s("workplace_in_list") != "no":
        if _outside_account_area(ctx, wp):
            _keep_out_of_area_update(ctx, wp)
        else:
            _update_entity(ctx, wp)
    values = _visit_values(ctx, wp)
    if visit is None:
        visit = MonitoringVisit(id=uuid.uuid4(), visit_id=sub.root_instance_id, submission_id=sub.id,
                                created_at=utcnow(), updated_at=utcnow())
        # Not flushed here: the provenance INSERT below flushes the row with its values.
        s.add(visit)
    cases.set_fields(s, visit, EntityType.VISIT, values, version_id=ctx.vid)
    ctx.outcome.visit_id = visit.id
    flag_possible_duplicate(ctx, visit)
    _sync_visit_members(ctx, visit, new=not ctx.remerge)
    sync_referrals(ctx, rules.visit_alerts(ctx.answers), About(workplace_id=wp.id if wp else None))
    if wp is not None:
        _refresh_workplace_risk(s, wp, ctx.vid)


def _sync_visit_members(ctx: MergeContext, visit: MonitoringVisit, *, new: bool) -> None:
    """The members the visit names (members_affected), replaced on an edit."""
    s = ctx.session
    wanted: set[uuid.UUID] = set()
    for token in (ctx.s("members_affected") or "").split():
        member = cases.resolve_member(s, cases.as_uuid(token))
        if member is not None:
            wanted.add(member.id)
    if new and not wanted:
        return
    have = {} if new else {
        vm.member_id: vm for vm in s.scalars(select(VisitMember).where(VisitMember.visit_id == visit.id))
    }
    for mid in wanted - have.keys():
        s.add(VisitMember(visit_id=visit.id, member_id=mid))
    for mid in have.keys() - wanted:
        s.delete(have[mid])


def _refresh_workplace_risk(session: Session, wp: Workplace, version_id: int) -> None:
    """Workplace risk = the risk of its latest visit (by visit date), but never below red while
    an urgent referral about the people there is open (issue 9 item 8: a calm visit does not
    close a case). Server-only, never on the device (domain.md 2.2)."""
    risk = session.scalars(
        select(MonitoringVisit.risk_level).where(MonitoringVisit.workplace_id == wp.id)
        .order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.created_at.desc()).limit(1)
    ).first()
    if risk is not None and risk != RiskLevel.RED and session.scalar(
        select(Referral.id).where(
            Referral.workplace_id == wp.id,
            Referral.priority == Priority.URGENT,
            Referral.status != ReferralStatus.CLOSED,
            # A threat to the peer educator is an alert about her safety, not the workers'.
            Referral.category != ReferralCategory.PE_SECURITY,
        ).limit(1)
    ) is not None:
        risk = RiskLevel.RED
    if risk is not None:
        cases.set_fields(session, wp, EntityType.WORKPLACE, {"risk_level": risk},
                         version_id=version_id)
