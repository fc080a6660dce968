"""Staff decisions on probable duplicates: merge, unmerge, "not the same" (domain.md 4.4).

* ``merge_members(session, pair_id | (survivor_id, loser_id), staff_actor)``: the survivor is
  the member with the oldest member_code (created first) unless the caller names it; the
  loser gets ``merged_into_member_id`` and status ``merged`` and is never deleted; her names,
  nicknames and phones become aliases of the survivor; referrals and visit links are
  re-pointed; a :class:`MergeEvent` records exactly what changed.
* ``unmerge(session, merge_event_id | member_id, staff_actor)``: restores the state before the
  merge exactly (both member rows, aliases, phones, referrals, visit links, linkage keys,
  the pair's status). Audit rows (case_changes) are kept and get an "unmerged" entry.
* ``reject_pair(session, pair_id, staff_actor)``: "not the same"; the pair is kept as
  rejected so matching never proposes it again.
* ``merge_workplaces`` / ``unmerge`` do the same for workplaces (names become aliases;
  visits, referrals and members' current workplace are re-pointed; the moved visits are
  checked for possible duplicates of the survivor's, same collector and day).

Functions flush, never commit; they raise ``server.errors`` (stable codes, no personal data).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server import errors
from server.db.models import (
    AliasKind,
    CandidatePair,
    EntityConflict,
    EntityType,
    LinkageKey,
    Member,
    MemberAlias,
    MemberPhone,
    MemberStatus,
    MergeEvent,
    MonitoringVisit,
    PairStatus,
    Referral,
    VisitMember,
    Workplace,
    WorkplaceName,
    WorkplaceStatus,
    utcnow,
)
from server.sync import cases, linkage
from server.sync.merge.duplicate_visits import flag_after_workplace_merge, withdraw_merge_pairs
from server.sync.snapshots import restore_row, row_snapshot

# Kept importable from here: the review errors live in the one catalogue.
PairAlreadyDecided = errors.PairAlreadyDecided
MergeNotAllowed = errors.MergeNotAllowed
MergeAlreadyUndone = errors.MergeAlreadyUndone
UnmergeBlocked = errors.UnmergeBlocked


# --- pairs ------------------------------------------------------------------------------------
def _get_pair(session: Session, pair_id: uuid.UUID) -> CandidatePair:
    pair = session.get(CandidatePair, pair_id, with_for_update=True, populate_existing=True)
    if pair is None:
        raise errors.NotFound()
    if pair.status != PairStatus.PENDING:
        raise PairAlreadyDecided()
    return pair


def reject_pair(session: Session, pair_id: uuid.UUID, staff_actor: str) -> CandidatePair:
    """Staff say "not the same": the pair stays, rejected, and is never proposed again."""
    pair = _get_pair(session, pair_id)
    pair.status = PairStatus.REJECTED
    pair.decided_at = utcnow()
    pair.decided_by = staff_actor
    pair.row_version += 1
    cases.record_change(session, pair.entity_type, pair.a_id, "pair_rejected", None,
                        str(pair.b_id), actor=staff_actor)
    session.flush()
    return pair


def _survivor_first(a: Member, b: Member) -> tuple[Member, Member]:
    """The survivor is the oldest member_code: the record created first (codes are random,
    so their order means nothing); a record without a confirmed code never survives one with."""
    def key(m: Member) -> tuple[int, datetime, str]:
        return (0 if m.member_code else 1, m.created_at, str(m.id))

    return (a, b) if key(a) <= key(b) else (b, a)


def _pair_and_ids(
    session: Session, target: uuid.UUID | tuple[uuid.UUID, uuid.UUID], entity_type: EntityType
) -> tuple[CandidatePair | None, uuid.UUID, uuid.UUID, bool]:
    if isinstance(target, tuple):
        survivor_id, loser_id = target
        a, b = linkage.ordered_pair(survivor_id, loser_id)
        pair = session.scalar(select(CandidatePair).where(
            CandidatePair.entity_type == entity_type, CandidatePair.a_id == a,
            CandidatePair.b_id == b, CandidatePair.status == PairStatus.PENDING,
        ))
        return pair, survivor_id, loser_id, True
    pair = _get_pair(session, target)
    if pair.entity_type != entity_type:
        raise errors.NotFound()
    return pair, pair.a_id, pair.b_id, False


# --- members ----------------------------------------------------------------------------------
def _start_merge(
    session: Session,
    entity_type: EntityType,
    survivor: Member | Workplace,
    loser: Member | Workplace,
    pair: CandidatePair | None,
    staff_actor: str,
) -> tuple[MergeEvent, dict[str, Any]]:
    """The merge event and the snapshot of both records (and the pair) that unmerge restores."""
    event = MergeEvent(
        id=uuid.uuid4(), entity_type=entity_type, survivor_id=survivor.id,
        loser_id=loser.id, pair_id=pair.id if pair else None, kind="staff_merge",
        actor=staff_actor, created_at=utcnow(),
    )
    session.add(event)
    session.flush()
    snapshot: dict[str, Any] = {
        "survivor": row_snapshot(survivor),
        "loser": row_snapshot(loser),
        "pair": row_snapshot(pair) if pair else None,
    }
    return event, snapshot


def merge_members(
    session: Session,
    target: uuid.UUID | tuple[uuid.UUID, uuid.UUID],
    staff_actor: str,
) -> MergeEvent:
    """Merge two members (a pending pair id, or an explicit (survivor_id, loser_id))."""
    pair, first_id, second_id, explicit = _pair_and_ids(session, target, EntityType.MEMBER)
    first = session.get(Member, first_id, with_for_update=True, populate_existing=True)
    second = session.get(Member, second_id, with_for_update=True, populate_existing=True)
    if first is None or second is None:
        raise errors.NotFound()
    if first.id == second.id or first.merged_into_member_id or second.merged_into_member_id:
        raise MergeNotAllowed()
    survivor, loser = (first, second) if explicit else _survivor_first(first, second)
    event, snapshot = _start_merge(session, EntityType.MEMBER, survivor, loser, pair, staff_actor)
    # Names, nicknames and phones of the loser become aliases on the survivor.
    names = [
        (AliasKind.NAME_KM, " ".join(x for x in (loser.family_name_km, loser.given_name_km) if x)),
        (AliasKind.NAME_LATIN, loser.name_latin_raw),
        *((a.kind, a.value) for a in loser.aliases),
    ]
    for kind, value in names:
        if value:
            session.add(MemberAlias(member_id=survivor.id, kind=kind, value=value,
                                    from_member_id=loser.id, merge_event_id=event.id))
    for p in loser.phones:
        session.add(MemberPhone(member_id=survivor.id, phone_e164=p.phone_e164,
                                owner_type=p.owner_type, first_seen=p.first_seen,
                                last_seen=p.last_seen, from_member_id=loser.id,
                                merge_event_id=event.id))
    # Events are re-pointed.
    referral_ids = list(session.scalars(select(Referral.id).where(Referral.member_id == loser.id)))
    for rid in referral_ids:
        session.get(Referral, rid).member_id = survivor.id
    survivor_visits = set(session.scalars(
        select(VisitMember.visit_id).where(VisitMember.member_id == survivor.id)))
    moved_visits, dropped_visits = [], []
    for vm in session.scalars(select(VisitMember).where(VisitMember.member_id == loser.id)).all():
        if vm.visit_id in survivor_visits:
            dropped_visits.append(row_snapshot(vm))
            session.delete(vm)
        else:
            vm.member_id = survivor.id
            moved_visits.append(vm.id)
    # The survivor is found under the loser's keys too.
    survivor_keys = set(session.scalars(select(LinkageKey.key).where(
        LinkageKey.entity_type == EntityType.MEMBER, LinkageKey.entity_id == survivor.id)))
    added_keys = []
    for key in session.scalars(select(LinkageKey.key).where(
        LinkageKey.entity_type == EntityType.MEMBER, LinkageKey.entity_id == loser.id)):
        if key not in survivor_keys:
            lk = LinkageKey(entity_type=EntityType.MEMBER, entity_id=survivor.id, key=key)
            session.add(lk)
            session.flush()
            added_keys.append(lk.id)
    loser.merged_into_member_id = survivor.id
    loser.status = MemberStatus.MERGED
    loser.updated_at = utcnow()
    if pair is not None:
        pair.status = PairStatus.MERGED
        pair.decided_at = utcnow()
        pair.decided_by = staff_actor
        pair.merge_event_id = event.id
        pair.row_version += 1
    snapshot.update(referral_ids=[str(r) for r in referral_ids], moved_visit_member_ids=moved_visits,
                    dropped_visit_members=dropped_visits, added_key_ids=added_keys)
    event.snapshot = snapshot
    cases.record_change(session, EntityType.MEMBER, loser.id, "merged_into_member_id", None,
                        str(survivor.id), merge_event_id=event.id, actor=staff_actor)
    session.flush()
    return event


def _event_for(session: Session, target: uuid.UUID) -> MergeEvent:
    event = session.get(MergeEvent, target, with_for_update=True, populate_existing=True)
    if event is None:
        # A member or workplace id: its latest merge that is not undone.
        event = session.scalars(
            select(MergeEvent).where(
                (MergeEvent.loser_id == target) | (MergeEvent.survivor_id == target),
                MergeEvent.undone_at.is_(None),
            ).order_by(MergeEvent.created_at.desc())
        ).first()
    if event is None:
        raise errors.NotFound()
    if event.undone_at is not None:
        raise MergeAlreadyUndone()
    later = session.scalar(
        select(MergeEvent.id).where(
            MergeEvent.undone_at.is_(None),
            MergeEvent.created_at > event.created_at,
            MergeEvent.id != event.id,
            MergeEvent.entity_type == event.entity_type,
            (MergeEvent.survivor_id.in_([event.survivor_id, event.loser_id]))
            | (MergeEvent.loser_id.in_([event.survivor_id, event.loser_id])),
        )
    )
    if later is not None:
        raise UnmergeBlocked()
    return event


def unmerge(session: Session, target: uuid.UUID, staff_actor: str) -> MergeEvent:
    """Undo a merge (by merge event id, or by a member/workplace id: its latest merge)."""
    event = _event_for(session, target)
    if event.entity_type == EntityType.WORKPLACE:
        _unmerge_workplaces(session, event)
    else:
        _unmerge_members(session, event)
    event.undone_at = utcnow()
    event.undone_by = staff_actor
    cases.record_change(session, event.entity_type, event.loser_id or event.survivor_id,
                        "unmerged", str(event.survivor_id), None, merge_event_id=event.id,
                        actor=staff_actor)
    session.flush()
    return event


def _restore_pair(session: Session, snap: dict[str, Any] | None) -> None:
    if snap:
        pair = session.get(CandidatePair, uuid.UUID(snap["id"]))
        if pair is not None:
            restore_row(pair, snap)
            pair.row_version = snap["row_version"] + 2  # the ETag must still change


def _unmerge_members(session: Session, event: MergeEvent) -> None:
    snap = event.snapshot or {}
    session.execute(delete(MemberAlias).where(MemberAlias.merge_event_id == event.id))
    session.execute(delete(MemberPhone).where(MemberPhone.merge_event_id == event.id))
    if event.kind == "auto_member_code" or event.loser_id is None:
        return
    survivor = session.get(Member, event.survivor_id, with_for_update=True)
    loser = session.get(Member, event.loser_id, with_for_update=True)
    for rid in snap.get("referral_ids", []):
        referral = session.get(Referral, uuid.UUID(rid))
        if referral is not None:
            referral.member_id = loser.id
    for vm_id in snap.get("moved_visit_member_ids", []):
        vm = session.get(VisitMember, vm_id)
        if vm is not None:
            vm.member_id = loser.id
    for row in snap.get("dropped_visit_members", []):
        session.add(VisitMember(id=row["id"], visit_id=uuid.UUID(row["visit_id"]),
                                member_id=uuid.UUID(row["member_id"])))
    if snap.get("added_key_ids"):
        session.execute(delete(LinkageKey).where(LinkageKey.id.in_(snap["added_key_ids"])))
    restore_row(loser, snap["loser"])
    restore_row(survivor, snap["survivor"])
    _restore_pair(session, snap.get("pair"))
    session.flush()
    session.expire(survivor, ["aliases", "phones"])


# --- workplaces -------------------------------------------------------------------------------
def merge_workplaces(
    session: Session,
    target: uuid.UUID | tuple[uuid.UUID, uuid.UUID],
    staff_actor: str,
) -> MergeEvent:
    """Merge two workplaces: the older (or verified) one survives; the loser's names become
    aliases; visits, referrals and members' workplaces are re-pointed."""
    pair, first_id, second_id, explicit = _pair_and_ids(session, target, EntityType.WORKPLACE)
    first = session.get(Workplace, first_id, with_for_update=True, populate_existing=True)
    second = session.get(Workplace, second_id, with_for_update=True, populate_existing=True)
    if first is None or second is None:
        raise errors.NotFound()
    if first.id == second.id or first.merged_into_workplace_id or second.merged_into_workplace_id:
        raise MergeNotAllowed()
    if explicit:
        survivor, loser = first, second
    else:
        def key(w: Workplace) -> tuple[int, datetime, str]:
            return (1 if w.status == WorkplaceStatus.UNVERIFIED else 0, w.created_at, str(w.id))

        survivor, loser = (first, second) if key(first) <= key(second) else (second, first)
    event, snapshot = _start_merge(session, EntityType.WORKPLACE, survivor, loser, pair, staff_actor)
    for n in loser.names:
        session.add(WorkplaceName(workplace_id=survivor.id, name_km=n.name_km,
                                  name_latin=n.name_latin, is_alias=True, valid_from=n.valid_from,
                                  valid_to=n.valid_to, from_workplace_id=loser.id,
                                  merge_event_id=event.id))
    moved: dict[str, list[str]] = {"visits": [], "referrals": [], "members": []}
    for model, attr, bucket in (
        (MonitoringVisit, "workplace_id", "visits"),
        (Referral, "workplace_id", "referrals"),
        (Member, "current_workplace_id", "members"),
    ):
        for row in session.scalars(select(model).where(getattr(model, attr) == loser.id)):
            setattr(row, attr, survivor.id)
            moved[bucket].append(str(row.id))
    loser.merged_into_workplace_id = survivor.id
    loser.status = WorkplaceStatus.MERGED
    loser.updated_at = utcnow()
    survivor.version += 1  # the list row changes (new alias names): Collect must refresh it
    if pair is not None:
        pair.status = PairStatus.MERGED
        pair.decided_at = utcnow()
        pair.decided_by = staff_actor
        pair.merge_event_id = event.id
        pair.row_version += 1
    snapshot["moved"] = moved
    session.flush()  # the re-pointed visits, before they are paired with the survivor's
    snapshot["visit_pairs"] = flag_after_workplace_merge(session, survivor.id, moved["visits"])
    event.snapshot = snapshot
    cases.record_change(session, EntityType.WORKPLACE, loser.id, "merged_into_workplace_id", None,
                        str(survivor.id), merge_event_id=event.id, actor=staff_actor)
    session.flush()
    linkage.refresh_workplace_keys(session, survivor)
    return event


def _unmerge_workplaces(session: Session, event: MergeEvent) -> None:
    snap = event.snapshot or {}
    session.execute(delete(WorkplaceName).where(WorkplaceName.merge_event_id == event.id))
    survivor = session.get(Workplace, event.survivor_id, with_for_update=True)
    loser = session.get(Workplace, event.loser_id, with_for_update=True)
    moved = snap.get("moved", {})
    for model, attr, bucket in (
        (MonitoringVisit, "workplace_id", "visits"),
        (Referral, "workplace_id", "referrals"),
        (Member, "current_workplace_id", "members"),
    ):
        for rid in moved.get(bucket, []):
            row = session.get(model, uuid.UUID(rid))
            if row is not None:
                setattr(row, attr, loser.id)
    withdraw_merge_pairs(session, snap.get("visit_pairs", []))
    restore_row(loser, snap["loser"])
    restore_row(survivor, snap["survivor"])
    # Collect must see the list row change again: versions only go up.
    survivor.version = max(survivor.version, snap["survivor"]["version"]) + 2
    _restore_pair(session, snap.get("pair"))
    session.flush()
    session.expire(survivor, ["names"])
    linkage.refresh_workplace_keys(session, survivor)


def resolve_workplace_conflicts(session: Session, workplace_id: uuid.UUID, staff_actor: str) -> int:
    """Staff have checked the workplace after parallel offline updates: mark its open conflicts
    resolved (like Central's entity.update.resolve). The data itself is not changed: updates were
    already applied in visit-date order. Returns how many conflicts were resolved."""
    workplace = session.get(Workplace, workplace_id, with_for_update=True)
    if workplace is None:
        raise errors.NotFound("There is no workplace with this id.")
    now = utcnow()
    open_conflicts = session.scalars(
        select(EntityConflict).where(
            EntityConflict.entity_type == EntityType.WORKPLACE,
            EntityConflict.entity_id == workplace_id,
            EntityConflict.resolved.is_(False),
        )
    ).all()
    for conflict in open_conflicts:
        conflict.resolved = True
        conflict.resolved_at = now
        conflict.resolved_by = staff_actor
    workplace.has_conflict = False
    session.flush()
    return len(open_conflicts)
