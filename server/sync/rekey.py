"""Recompute the stored matching keys of existing members after the matcher changed.

The merge stores, for each member, the birth-year bounds the database filters candidates on
(``members.birth_year_min``/``max``) and the blocking keys of :func:`match.blocking_keys`
(``linkage_keys``). Both are derived from her answers by :mod:`server.sync.match`, so when
the rules change (a wider age tolerance, a new kind of key) the members stored before must be
re-keyed, or new intakes would not meet them. ``sahakum sync rekey`` runs this in batches,
one transaction each; running it twice changes nothing the second time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.db.models import EntityType, Member
from server.sync import match
from server.sync.linkage import member_record, replace_linkage_keys


@dataclass(frozen=True)
class RekeyBatch:
    members: int  # members read in this batch
    bounds_changed: int  # members whose stored birth-year bounds changed
    last_id: uuid.UUID | None  # where the next batch starts (None: nothing left)


def rekey_members(session: Session, after: uuid.UUID | None = None, batch: int = 500) -> RekeyBatch:
    """Re-key up to ``batch`` members with an id greater than ``after`` (keyset paging, so a
    batch costs the same at the start and at the end of the table). Flushes, never commits."""
    query = (
        select(Member)
        .options(selectinload(Member.phones), selectinload(Member.aliases))
        .order_by(Member.id)
        .limit(batch)
    )
    if after is not None:
        query = query.where(Member.id > after)
    members = list(session.scalars(query))
    changed = 0
    for member in members:
        record = member_record(member)
        bounds = record.keys.birth_years
        lo, hi = bounds if bounds else (None, None)
        if (member.birth_year_min, member.birth_year_max) != (lo, hi):
            member.birth_year_min, member.birth_year_max = lo, hi
            changed += 1
        replace_linkage_keys(session, EntityType.MEMBER, member.id, match.blocking_keys(record))
    session.flush()
    return RekeyBatch(len(members), changed, members[-1].id if members else None)
