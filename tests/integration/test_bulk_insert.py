"""insert_rows (one ``INSERT … SELECT unnest(…)`` on PostgreSQL) stores rows exactly as the
ORM's executemany does: enums by value, UTC timestamps, NULLs, order of ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select

from server.db.models import CaseChange, EntityType, LinkageKey
from server.db.session import Database
from server.sync.bulk_insert import insert_rows


def _rows(entity_id: uuid.UUID, tag: str) -> list[dict]:
    at = datetime(2026, 12, 2, 10, 30, 15, 123456, tzinfo=UTC)
    return [
        {"entity_type": EntityType.MEMBER, "entity_id": entity_id, "field": f"{tag}{i}",
         "old_value": None if i % 2 else "ក្រមុំ", "new_value": f"v{i}", "submission_version_id": None,
         "merge_event_id": None, "actor": "merge", "at": at}
        for i in range(5)
    ]


def _stored(db: Database, entity_id: uuid.UUID) -> list[tuple]:
    with db.sessionmaker() as s:
        return [
            (c.entity_type, c.entity_id, c.field, c.old_value, c.new_value, c.submission_version_id,
             c.merge_event_id, c.actor, c.at)
            for c in s.scalars(select(CaseChange).where(CaseChange.entity_id == entity_id)
                               .order_by(CaseChange.id))
        ]


def test_insert_rows__stores_what_the_orm_stores_in_the_same_order(db: Database) -> None:
    ours, orm = uuid.uuid4(), uuid.uuid4()
    with db.transaction() as s:
        insert_rows(s, CaseChange.__table__, _rows(ours, "f"))
        s.execute(insert(CaseChange), _rows(orm, "f"))
    got, want = _stored(db, ours), _stored(db, orm)
    assert [row[2:] for row in got] == [row[2:] for row in want]
    assert [row[2] for row in got] == [f"f{i}" for i in range(5)]  # ids in the order given
    assert got[0][0] == EntityType.MEMBER and got[0][8].tzinfo is not None


def test_insert_rows__keys_and_nothing(db: Database) -> None:
    entity = uuid.uuid4()
    with db.transaction() as s:
        insert_rows(s, LinkageKey.__table__, [])
        insert_rows(s, LinkageKey.__table__, [
            {"entity_type": EntityType.WORKPLACE, "entity_id": entity, "key": k} for k in ("a", "b")
        ])  # fmt: skip
    with db.sessionmaker() as s:
        rows = s.execute(select(LinkageKey.entity_type, LinkageKey.key).where(LinkageKey.entity_id == entity)
                         .order_by(LinkageKey.key)).all()
    assert [tuple(r) for r in rows] == [(EntityType.WORKPLACE, "a"), (EntityType.WORKPLACE, "b")]
