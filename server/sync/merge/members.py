"""A member's links kept by the merge: the nicknames and phones an intake gave her, the
automatic link of an identical member card, and the review pairs of a new member."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select

from server.db.models import (
    AliasKind,
    EntityType,
    Member,
    MemberAlias,
    MemberPhone,
    MergeEvent,
    utcnow,
)
from server.sync import cases, clusters, linkage, match
from server.sync.merge.context import MergeContext


def sync_aliases(ctx: MergeContext, member: Member) -> None:
    """Nicknames and phones this submission gave the member (replaced on an edit)."""
    s = ctx.session
    sub_id = ctx.submission.id
    nicks = [n.strip() for n in (ctx.s("nicknames") or "").replace("،", ",").split(",") if n.strip()]
    have = {
        a.value: a
        for a in s.scalars(
            select(MemberAlias).where(
                MemberAlias.member_id == member.id,
                MemberAlias.source_submission_id == sub_id,
                MemberAlias.kind == AliasKind.NICKNAME,
            )
        )
    }
    for value in nicks:
        if value not in have:
            s.add(MemberAlias(member_id=member.id, kind=AliasKind.NICKNAME, value=value[:200],
                              source_submission_id=sub_id))
    for value, alias in have.items():
        if value not in nicks:
            s.delete(alias)
    phone = match.normalise_phone(ctx.s("phone"))
    owner = ctx.s("phone_owner") or "none"
    existing = s.scalars(
        select(MemberPhone).where(
            MemberPhone.member_id == member.id, MemberPhone.source_submission_id == sub_id
        )
    ).all()
    for p in existing:
        if p.phone_e164 != phone or p.owner_type != owner:
            s.delete(p)
    if phone and not any(p.phone_e164 == phone and p.owner_type == owner for p in existing):
        s.add(MemberPhone(member_id=member.id, phone_e164=phone, owner_type=owner,
                          first_seen=ctx.event_date, last_seen=ctx.event_date,
                          source_submission_id=sub_id))
    s.flush()
    # Reloaded on first use (the linkage keys read them): one query each, no refresh of the row.
    s.expire(member, ["aliases", "phones"])


def auto_link(ctx: MergeContext, member: Member, offline_entity_id: uuid.UUID | None) -> None:
    """Identical member_code (the same card): this intake joins the existing member. Its names
    and phones become aliases; logged as a merge event that unmerge can undo."""
    s = ctx.session
    event = MergeEvent(
        id=uuid.uuid4(), entity_type=EntityType.MEMBER, survivor_id=member.id, loser_id=None,
        kind="auto_member_code", actor="merge", submission_id=ctx.submission.id,
        snapshot={"offline_entity_id": str(offline_entity_id) if offline_entity_id else None},
        created_at=utcnow(),
    )
    s.add(event)
    s.flush()
    added: list[int] = []
    for kind, value in (
        (AliasKind.NAME_KM, " ".join(x for x in (ctx.s("family_name_km"), ctx.s("given_name_km")) if x)),
        (AliasKind.NAME_LATIN, ctx.s("name_latin")),
    ):
        if value:
            alias = MemberAlias(member_id=member.id, kind=kind, value=value[:200],
                                merge_event_id=event.id, source_submission_id=ctx.submission.id)
            s.add(alias)
            s.flush()
            added.append(alias.id)
    sync_aliases(ctx, member)
    event.snapshot = {**event.snapshot, "alias_ids": added}
    cases.record_change(s, EntityType.MEMBER, member.id, "auto_link_submission", None,
                        str(ctx.submission.id), version_id=ctx.vid, merge_event_id=event.id)
    if offline_entity_id and offline_entity_id != member.id:
        # The phone's offline entity is superseded: the integrity API reports it deleted.
        cases.record_change(s, EntityType.MEMBER, offline_entity_id, "superseded_by", None,
                            str(member.id), version_id=ctx.vid, merge_event_id=event.id)
    ctx.outcome.merge_events.append(event.id)


def _nicknames(ctx: MergeContext) -> list[str]:
    raw = (ctx.s("nicknames") or "").replace("،", ",").split(",")
    return list(dict.fromkeys(n.strip()[:200] for n in raw if n.strip()))


def add_first_aliases(ctx: MergeContext, member: Member) -> tuple[Any, list[str]]:
    """Nicknames and phone of a member this merge created: plain inserts, nothing to compare
    with. Returns (the phone as a row-like value or None, the nicknames) for her keys."""
    s = ctx.session
    sub_id = ctx.submission.id
    nicks = _nicknames(ctx)
    if nicks:
        s.execute(insert(MemberAlias), [
            {"member_id": member.id, "kind": AliasKind.NICKNAME, "value": v,
             "source_submission_id": sub_id} for v in nicks
        ])  # fmt: skip
    phone = match.normalise_phone(ctx.s("phone"))
    if phone is None:
        return None, nicks
    owner = ctx.s("phone_owner") or "none"
    s.execute(insert(MemberPhone), [{
        "member_id": member.id, "phone_e164": phone, "owner_type": owner,
        "first_seen": ctx.event_date, "last_seen": ctx.event_date, "source_submission_id": sub_id,
    }])  # fmt: skip
    return SimpleNamespace(phone_e164=phone, owner_type=owner), nicks


def find_candidates(
    ctx: MergeContext, member: Member, record: match.MemberRecord
) -> list[clusters.Proposal]:
    """The stored members this new one may be: blocked, ranked, capped and scored."""
    s = ctx.session
    # One blocking query gives the candidates (birth years checked in SQL, ranked, capped)
    # and the number of records under each key, for the common-name penalty.
    key_counts: dict[str, int] = {}
    ids = linkage.candidates_by_keys(
        s, EntityType.MEMBER, match.blocking_keys(record), member.id,
        key_counts=key_counts, birth_years=record.keys.birth_years,
        limit=match.MAX_SCORED_CANDIDATES,
    )  # fmt: skip
    if not ids:
        return []
    # The candidates' match records from one column query (no ORM objects); records are
    # cached per content in linkage.
    records = linkage.member_records(s, ids)
    proposals: list[clusters.Proposal] = []
    for other_id in ids:
        other_rec = records.get(other_id)
        if other_rec is None:  # merged meanwhile
            continue
        result = match.score_members(other_rec, record, key_counts=key_counts)
        decision = match.decide(other_rec, record, result)
        if decision in (match.Decision.REVIEW, match.Decision.AUTO_LINK):
            proposals.append(clusters.Proposal(other_id, result))
    return proposals
