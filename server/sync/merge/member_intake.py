"""member_intake -> a member (or, for a minor or without consent, no member: a
child-protection referral), her workplace, review pairs and referrals."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    EntityType,
    Member,
    MemberStatus,
    MergeEvent,
    Village,
    Workplace,
    utcnow,
)
from server.sync import alerts as rules
from server.sync import cases, clusters, linkage, match
from server.sync.merge import list_columns
from server.sync.merge.context import MergeContext
from server.sync.merge.members import add_first_aliases, auto_link, find_candidates, sync_aliases
from server.sync.merge.referrals import About, sync_referrals
from server.sync.merge.sectors import record_sector
from server.sync.merge.workplaces import TypedWorkplace, workplace_candidate

#: Properties of the members entity list: a change bumps the member's entity version.
_MEMBER_LIST_FIELDS = frozenset({"member_code", "pe_code", "savings_group"})


def _member_values(ctx: MergeContext, record: match.MemberRecord) -> dict[str, Any]:
    village = ctx.s("origin_village")
    unknown_village = bool(village and village.startswith("unk-"))
    bounds = record.keys.birth_years
    dob = ctx.d("dob") if ctx.s("dob_known") != "no" else None
    return {
        "family_name_km": ctx.s("family_name_km"),
        "given_name_km": ctx.s("given_name_km"),
        "name_latin_raw": ctx.s("name_latin"),
        "dob": dob,
        "dob_precision": "exact" if dob else (
            "estimated" if ctx.s("age_source") == "collector_estimate" else "year"
        ),
        "age_at_intake": ctx.i("age_years") if ctx.i("age_years") is not None else ctx.i("age_stated"),
        "age_source": ctx.s("age_source"),
        "zodiac": ctx.s("zodiac"),
        "intake_date": ctx.event_date,
        "birth_year_min": bounds[0] if bounds else None,
        "birth_year_max": bounds[1] if bounds else None,
        "origin_village_code": None if unknown_village else (village or record.keys.village),
        "origin_commune_code": record.keys.commune,
        "origin_text": ctx.s("origin_village_text"),
        "sector": ctx.s("sector"),
        "months_in_work": ctx.i("months_in_work"),
        "recruited_via": ctx.s("recruited_via"),
        "safe_contact": ctx.s("safe_contact"),
        "interests": sorted((ctx.s("interests") or "").split()),
        "savings_group": ctx.s("savings_group"),
        "pe_code": ctx.collector,
        "joined_date": ctx.d("today") or ctx.d("today_calc") or ctx.event_date,
        "consent_record": ctx.s("consent") == "yes",
        "consent_referral": ctx.s("consent_referral") == "yes",
        "consent_date": ctx.event_date,
    }


def _village_resolver(session: Session, commune: str | None) -> match.VillageResolver | None:
    if not commune:
        return None
    rows = session.execute(
        select(Village.code, Village.name_km, Village.name_en).where(Village.commune_code == commune)
    ).all()
    return match.make_village_resolver([tuple(r) for r in rows]) if rows else None


def _intake_record(ctx: MergeContext, record_id: str | None) -> match.MemberRecord:
    village = ctx.s("origin_village") or ""
    commune = ctx.s("origin_commune") or (village[4:] if village.startswith("unk-") else None)
    answers = {k: v for k, v in ctx.answers.items() if isinstance(v, str)}
    answers.setdefault("pe_code", ctx.collector)
    return match.MemberRecord.from_answers(
        answers,
        ctx.event_date,
        record_id=record_id,
        village_resolver=_village_resolver(ctx.session, commune),
    )


def merge_intake(ctx: MergeContext) -> None:
    s = ctx.session
    minor = rules.intake_is_minor(ctx.answers)
    workplace = _intake_workplace(ctx)
    member: Member | None = None
    if not minor and ctx.s("consent") == "yes":
        member = _intake_member(ctx, workplace)
        if member is not None:
            record_sector(ctx, member)
        if member is not None and workplace is not None:
            cases.set_fields(s, member, EntityType.MEMBER, {"current_workplace_id": workplace.id},
                             version_id=ctx.vid)
    elif ctx.remerge:
        # An edit turned the intake into a minor's or withdrew consent: never keep a member
        # created from it on phones; staff see the change in case_changes.
        for m in s.scalars(select(Member).where(Member.source_submission_id == ctx.submission.id)):
            cases.set_fields(s, m, EntityType.MEMBER, {"status": MemberStatus.WITHDRAWN},
                             version_id=ctx.vid)
    ctx.outcome.member_id = member.id if member else None
    if member is not None and member.source_submission_id == ctx.submission.id:
        ctx.listed = (ctx.event_date, workplace.commune_code if workplace else None, False)
    else:  # a minor, no consent, or joined the member of the same card: not dated by it
        ctx.listed = list_columns.NOTHING_LISTED
    sync_referrals(ctx, rules.intake_alerts(ctx.answers), About(
        workplace_id=workplace.id if workplace else None,
        member_id=member.id if member else None,
    ))


def _intake_member(ctx: MergeContext, workplace: Workplace | None) -> Member | None:
    """The member this intake is about: the one it created (updated on an edit), the one it
    was linked to by the same card, or a new one."""
    s = ctx.session
    # Only an earlier version of this submission can have created her.
    existing = s.scalar(
        select(Member).where(Member.source_submission_id == ctx.submission.id)
    ) if ctx.remerge else None
    if existing is None and ctx.remerge:
        linked = _linked_member(ctx)
        if linked is not None:
            return linked
    record = _intake_record(ctx, str(existing.id) if existing else None)
    values = _member_values(ctx, record)
    if workplace is not None:
        values["current_workplace_id"] = workplace.id
    if existing is not None:
        _update_member(ctx, existing, values)
        return existing
    code = record.member_code
    same_card = s.scalar(select(Member).where(Member.member_code == code)) if code else None
    if same_card is not None:
        same_card = cases.resolve_member(s, same_card.id)
    if same_card is not None:
        same_rec = linkage.member_record(same_card)
        result = match.score_members(same_rec, record)
        if match.decide(same_rec, record, result) == match.Decision.AUTO_LINK:
            auto_link(ctx, same_card, _offline_id(ctx))
            linkage.refresh_member_keys(s, same_card)
            return same_card
    return _new_member(ctx, record, values, same_card)


def _offline_id(ctx: MergeContext) -> uuid.UUID | None:
    """The id the phone gave the member it created offline (entities create)."""
    return ctx.entity.entity_id if ctx.entity and ctx.entity.create else None


def _linked_member(ctx: MergeContext) -> Member | None:
    """An edit of an intake whose earlier version auto-linked to a member: keep that link."""
    s = ctx.session
    event = s.scalar(select(MergeEvent).where(
        MergeEvent.submission_id == ctx.submission.id, MergeEvent.undone_at.is_(None)))
    member = s.get(Member, event.survivor_id) if event is not None else None
    if member is not None:
        sync_aliases(ctx, member)
        linkage.refresh_member_keys(s, member)
    return member


def _update_member(ctx: MergeContext, member: Member, values: dict[str, Any]) -> None:
    s = ctx.session
    code = (ctx.s("member_code") or "").upper() or None
    # Her sector comes from the whole history (sectors.record_sector), not this intake alone.
    values = {k: v for k, v in values.items() if k != "sector"}
    changed = cases.set_fields(s, member, EntityType.MEMBER, values, version_id=ctx.vid)
    if code and code != member.member_code and s.scalar(
        select(Member.id).where(Member.member_code == code)
    ) is None:
        changed += cases.set_fields(s, member, EntityType.MEMBER, {"member_code": code},
                                    version_id=ctx.vid)
    if _MEMBER_LIST_FIELDS & set(changed):
        member.version += 1
    sync_aliases(ctx, member)
    linkage.refresh_member_keys(s, member)


def _new_member(
    ctx: MergeContext, record: match.MemberRecord, values: dict[str, Any], same_card: Member | None
) -> Member:
    """A new member, written in a few plain statements (row, provenance, aliases, keys,
    pairs); when her card is already someone else's and the records disagree, the code is
    only claimed and staff decide."""
    s = ctx.session
    code = record.member_code
    offline_id = _offline_id(ctx)
    member_id = offline_id if offline_id and s.get(Member, offline_id) is None else uuid.uuid4()
    member = Member(
        id=member_id,
        claimed_code=code if same_card is not None else None,
        source_submission_id=ctx.submission.id,
        source_instance_id=ctx.submission.root_instance_id,
        created_at=utcnow(),
        updated_at=utcnow(),
        version=1,
    )
    s.add(member)
    first = {"member_code": None if same_card is not None else code, **values}
    # The provenance INSERT flushes the member row with all its values first (one INSERT).
    cases.set_fields(s, member, EntityType.MEMBER, first, version_id=ctx.vid,
                     record_unchanged=frozenset({"member_code"}))
    phone, nicks = add_first_aliases(ctx, member)
    linkage.store_new_member_keys(s, member, phone, nicks)
    proposals: list[clusters.Proposal] = []
    if same_card is not None:
        same_rec = linkage.member_record(same_card)
        proposals.append(clusters.Proposal(same_card.id, match.score_members(same_rec, record),
                                           ("same_member_code_disagreeing",), pinned=True))
    proposals += find_candidates(ctx, member, record)
    ctx.outcome.candidate_pairs += clusters.propose(
        s, EntityType.MEMBER, member.id, proposals, submission_id=ctx.submission.id
    )
    return member


def _intake_workplace(ctx: MergeContext) -> Workplace | None:
    if ctx.s("workplace_in_list") == "yes" or (ctx.s("workplace") and not ctx.s("workplace_new_name")):
        return cases.resolve_workplace(ctx.session, cases.as_uuid(ctx.s("workplace")))
    name = ctx.s("workplace_new_name")
    if not name:
        return None
    typed = TypedWorkplace.from_name(name, ctx.s("workplace_new_type"))
    # Item 3: its place (asked since form version 2026120201), so it reaches the lists of
    # that commune's phones and can be matched.
    village = ctx.s("workplace_new_village")
    typed = replace(typed, commune=ctx.s("workplace_new_commune"),
                    village=None if not village or village.startswith("unk-") else village,
                    landmark=ctx.s("workplace_new_landmark"))
    return workplace_candidate(ctx, typed)
