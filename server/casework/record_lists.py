"""The lists a duplicate pair's members are shown with (nicknames and phones), for a whole
page of pairs at once.

Read as plain rows, one statement per list for any number of pairs: loaded as ORM objects
(selectinload) they cost twice the CPU of the rest of a 50-pair page of the queue. Workplaces'
names stay ORM objects, loaded with the workplaces: their display name is made from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Table, select
from sqlalchemy.orm import Session

from server.db.models.cases import (
    CandidatePair,
    EntityType,
    MemberAlias,
    MemberPhone,
)

# entity type -> (list name, its table, the column naming the record), in the order of the
# relationships these rows would otherwise come from (ordered by id, as those are).
_LISTS: dict[EntityType, tuple[tuple[str, Table, str], ...]] = {
    EntityType.MEMBER: (
        ("aliases", MemberAlias.__table__, "member_id"),  # type: ignore[arg-type]
        ("phones", MemberPhone.__table__, "member_id"),  # type: ignore[arg-type]
    ),
}

RecordLists = dict[uuid.UUID, dict[str, list[Any]]]


def record_lists(session: Session, pairs: Iterable[CandidatePair]) -> RecordLists:
    """record id -> {list name: rows (mappings, by column name)}; every record of the pairs
    has an entry, with empty lists when it has none."""
    ids: dict[EntityType, set[uuid.UUID]] = {kind: set() for kind in _LISTS}
    for pair in pairs:
        if pair.entity_type in ids:
            ids[EntityType(pair.entity_type)].update((pair.a_id, pair.b_id))
    found: RecordLists = {}
    for kind, lists in _LISTS.items():
        if not ids[kind]:
            continue
        for record_id in ids[kind]:
            found[record_id] = {name: [] for name, _table, _owner in lists}
        for name, table, owner in lists:
            owner_column: Column[Any] = table.c[owner]
            rows = session.execute(
                select(table).where(owner_column.in_(ids[kind])).order_by(table.c.id)
            ).mappings()
            for row in rows:
                found[row[owner]][name].append(row)
    return found
