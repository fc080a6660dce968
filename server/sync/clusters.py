"""Review pairs grouped into clusters, so a common name does not flood the duplicate queue.

When a record looks like several others that staff already have in one cluster (twenty bars
called "Happy KTV" in one commune, many women called Sokha from one village), it joins that
cluster through its best pair only: n similar records make one cluster of n - 1 pairs, not
n(n - 1)/2 pairs. A record that links two clusters unites them. Staff still decide pair by
pair (``server.sync.review``); a cluster is what they see together.

Functions take a Session and flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from server.db.models import CandidatePair, EntityType, PairStatus, utcnow
from server.sync import match


@dataclass(frozen=True)
class Proposal:
    """A pair the matching would put before staff: the other record and why."""

    other_id: uuid.UUID
    result: match.MatchResult
    extra_evidence: tuple[str, ...] = ()
    pinned: bool = False  # always its own pair (the same member card, disagreeing)


def ordered_pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


def pair_row(
    entity_type: EntityType, new_id: uuid.UUID, p: Proposal, *, cluster_id: uuid.UUID | None,
    submission_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The candidate_pairs row of one proposal (pure)."""
    a_id, b_id = ordered_pair(p.other_id, new_id)
    r = p.result
    return {
        "id": uuid.uuid4(),
        "entity_type": entity_type,
        "a_id": a_id,
        "b_id": b_id,
        "score": r.score,
        "band": r.band if r.band != match.BAND_NONE else r.raw_band,
        "evidence": {"codes": [*r.evidence, *p.extra_evidence], "veto": r.veto, "cap": r.cap,
                     "weight": r.weight},
        "status": PairStatus.PENDING,
        "source_submission_id": submission_id,
        "created_at": utcnow(),
        "row_version": 1,
        "cluster_id": cluster_id,
        "decided_at": None,
        "decided_by": None,
        "merge_event_id": None,
    }


@dataclass
class _Plan:
    rows: list[dict[str, Any]] = field(default_factory=list)
    united: set[uuid.UUID] = field(default_factory=set)  # clusters folded into the target


def plan_pairs(
    entity_type: EntityType,
    new_id: uuid.UUID,
    proposals: Sequence[Proposal],
    cluster_of: dict[uuid.UUID, uuid.UUID],
    decided: set[uuid.UUID],
    submission_id: uuid.UUID | None = None,
) -> _Plan:
    """Which pairs to add (pure). ``cluster_of`` maps records (the new one included) to the
    cluster of their pending pairs; ``decided`` are records already paired with the new one
    (pending, rejected or merged: never proposed twice). Of two proposals for one record the
    first counts. Best proposals first; one that reaches a cluster the new record has already
    joined adds nothing."""
    plan = _Plan()
    target = cluster_of.get(new_id)
    joined = {target} if target else set()
    unique: dict[uuid.UUID, Proposal] = {}
    for p in proposals:
        if p.other_id not in decided and p.other_id != new_id:
            unique.setdefault(p.other_id, p)
    for p in sorted(unique.values(), key=lambda p: (not p.pinned, -p.result.score, str(p.other_id))):
        theirs = cluster_of.get(p.other_id)
        if theirs is not None and theirs in joined and not p.pinned:
            continue
        if target is None:
            target = theirs or uuid.uuid4()
            joined.add(target)
        elif theirs is not None and theirs not in joined:
            plan.united.add(theirs)
            joined.add(theirs)
        plan.rows.append(pair_row(entity_type, new_id, p, cluster_id=target,
                                  submission_id=submission_id))
    return plan


def propose(
    session: Session,
    entity_type: EntityType,
    new_id: uuid.UUID,
    proposals: Sequence[Proposal],
    *,
    submission_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Add the review pairs of one new or edited record; returns the ids of the pairs added.
    One query reads the clusters and earlier pairs, one INSERT adds the pairs."""
    if not proposals:
        return []
    others = {p.other_id for p in proposals}
    involved = [*others, new_id]
    cluster_of: dict[uuid.UUID, uuid.UUID] = {}
    decided: set[uuid.UUID] = set()
    for a_id, b_id, status, cluster in session.execute(
        select(CandidatePair.a_id, CandidatePair.b_id, CandidatePair.status, CandidatePair.cluster_id)
        .where(CandidatePair.entity_type == entity_type,
               or_(CandidatePair.a_id.in_(involved), CandidatePair.b_id.in_(involved)))
    ):  # fmt: skip
        if new_id in (a_id, b_id):
            decided.add(b_id if a_id == new_id else a_id)
        if status == PairStatus.PENDING and cluster is not None:
            cluster_of.setdefault(a_id, cluster)
            cluster_of.setdefault(b_id, cluster)
    plan = plan_pairs(entity_type, new_id, proposals, cluster_of, decided, submission_id)
    if plan.rows:
        session.execute(insert(CandidatePair), plan.rows)
    if plan.united and plan.rows:
        session.execute(
            update(CandidatePair)
            .where(CandidatePair.cluster_id.in_(plan.united))
            .values(cluster_id=plan.rows[0]["cluster_id"])
        )
    return [r["id"] for r in plan.rows]


# --- reading clusters (the review queue) ------------------------------------------------------
@dataclass(frozen=True)
class Cluster:
    cluster_id: uuid.UUID
    entity_type: EntityType
    record_ids: tuple[uuid.UUID, ...]
    pending_pairs: int
    best_score: float


def list_clusters(
    session: Session, *, entity_type: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[Cluster], int]:
    """Clusters with pending pairs, best score first, and how many there are."""
    base = select(
        CandidatePair.cluster_id.label("cluster_id"),
        CandidatePair.entity_type.label("entity_type"),
        func.count().label("pairs"),
        func.max(CandidatePair.score).label("best"),
    ).where(CandidatePair.status == PairStatus.PENDING, CandidatePair.cluster_id.is_not(None))
    if entity_type:
        base = base.where(CandidatePair.entity_type == entity_type)
    grouped = base.group_by(CandidatePair.cluster_id, CandidatePair.entity_type).subquery()
    total = session.scalar(select(func.count()).select_from(grouped)) or 0
    rows = session.execute(
        select(grouped).order_by(grouped.c.best.desc(), grouped.c.cluster_id).offset(offset).limit(limit)
    ).all()
    records = _cluster_records(session, [r.cluster_id for r in rows])
    return [
        Cluster(r.cluster_id, EntityType(r.entity_type), tuple(sorted(records[r.cluster_id], key=str)),
                r.pairs, r.best)
        for r in rows
    ], total


def _cluster_records(session: Session, cluster_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    out: dict[uuid.UUID, set[uuid.UUID]] = {c: set() for c in cluster_ids}
    if not out:
        return out
    for cluster, a_id, b_id in session.execute(
        select(CandidatePair.cluster_id, CandidatePair.a_id, CandidatePair.b_id).where(
            CandidatePair.cluster_id.in_(list(out)), CandidatePair.status == PairStatus.PENDING
        )
    ):
        out[cluster].update((a_id, b_id))
    return out


def cluster_pairs(session: Session, cluster_id: uuid.UUID) -> list[CandidatePair]:
    """The pending pairs of one cluster, best first."""
    return list(session.scalars(
        select(CandidatePair)
        .where(CandidatePair.cluster_id == cluster_id, CandidatePair.status == PairStatus.PENDING)
        .order_by(CandidatePair.score.desc(), CandidatePair.id)
    ))  # fmt: skip
