"""Staff decisions on a candidate pair, and undoing a merge: the one place both the JSON API and
the web pages call. Each decision is audited here, in the caller's transaction.

The merging itself is ``server.sync.review``; this module adds what a staff decision needs on
top: the pair must still be pending and unchanged since the reviewer read it, the survivor must
be one of the two, and who decided is written to the audit log. No Flask.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server import errors
from server.accounts.access import normalise_reason
from server.accounts.staff import audit
from server.db.models import StaffUser
from server.db.models.cases import CandidatePair, EntityType, Member, MergeEvent, PairStatus
from server.sync import review


def check_pending(pair: CandidatePair, row_version: int | None = None) -> None:
    """Refuse a decision on a decided pair (409) or one changed since it was read (412)."""
    if row_version is not None and row_version != pair.row_version:
        raise errors.PreconditionFailed()
    if pair.status != PairStatus.PENDING:
        raise errors.PairAlreadyDecided()


def merge_pair(
    session: Session,
    actor: StaffUser,
    pair: CandidatePair,
    *,
    survivor_id: uuid.UUID | None = None,
    note: str | None = None,
    row_version: int | None = None,
    request_id: str | None = None,
) -> MergeEvent:
    """Merge the pair's two records. The survivor is the oldest record unless `survivor_id`
    names one of the two."""
    check_pending(pair, row_version)
    target: uuid.UUID | tuple[uuid.UUID, uuid.UUID] = pair.id
    if survivor_id is not None:
        if survivor_id not in (pair.a_id, pair.b_id):
            raise errors.RequestInvalid("survivor_id must be one of the pair's two records.")
        target = (survivor_id, pair.b_id if survivor_id == pair.a_id else pair.a_id)
    if pair.entity_type == EntityType.MEMBER:
        event = review.merge_members(session, target, actor.name)
    else:
        event = review.merge_workplaces(session, target, actor.name)
    session.refresh(pair)
    reason = normalise_reason(note)
    audit(session, actor, "duplicate.merge", "candidate_pair", [pair.id], reason=reason,
          request_id=request_id)
    kind = str(pair.entity_type)
    audit(session, actor, f"{kind}.merge", kind, [event.survivor_id, event.loser_id], reason=reason,
          request_id=request_id)
    return event


def reject_pair(
    session: Session,
    actor: StaffUser,
    pair: CandidatePair,
    *,
    note: str | None = None,
    row_version: int | None = None,
    request_id: str | None = None,
) -> CandidatePair:
    """"Not the same": remembered, so matching never proposes the pair again."""
    check_pending(pair, row_version)
    pair = review.reject_pair(session, pair.id, actor.name)
    audit(session, actor, "duplicate.reject", "candidate_pair", [pair.id], reason=normalise_reason(note),
          request_id=request_id)
    return pair


def unmerge_member(
    session: Session,
    actor: StaffUser,
    member: Member,
    *,
    note: str | None = None,
    request_id: str | None = None,
) -> MergeEvent:
    """Undo the latest merge this member took part in (as survivor or as merged record)."""
    event = review.unmerge(session, member.id, actor.name)
    audit(session, actor, "member.unmerge", "member", [event.survivor_id, event.loser_id],
          reason=normalise_reason(note), request_id=request_id)
    return event
