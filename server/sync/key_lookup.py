"""The blocking lookups behind :func:`server.sync.linkage.candidates_by_keys`: which stored
entities share a key with a new record, read so that the cost does not grow with the table.

A key reads at most ``MAX_KEY_CANDIDATES + 1`` index entries, so a "stop key" (a common name)
is recognised without counting its rows.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, or_, select, union_all
from sqlalchemy.orm import Session

from server.db.models import EntityType, LinkageKey, Member
from server.sync import match

NO_YEAR_LO, NO_YEAR_HI = -(10**6), 10**6


@functools.lru_cache(maxsize=64)
def key_lookup(n_keys: int, members: bool) -> Any:
    """The blocking query for ``n_keys`` keys (bound parameters ``k0``… ``entity_type``, and
    ``lo``/``hi`` for members), built once per shape: building a 13-way UNION per intake cost
    more than running it."""
    cap = match.MAX_KEY_CANDIDATES
    entity_type = bindparam("entity_type", type_=LinkageKey.__table__.c.entity_type.type)
    per_key = [
        select(LinkageKey.key, LinkageKey.entity_id)
        .where(LinkageKey.entity_type == entity_type, LinkageKey.key == bindparam(f"k{i}"))
        .limit(cap + 1)
        .subquery()
        for i in range(n_keys)
    ]
    rows_q = union_all(*(select(q.c.key, q.c.entity_id) for q in per_key))
    if not members:
        return rows_q
    u = rows_q.subquery()
    lo, hi = bindparam("lo", type_=Integer()), bindparam("hi", type_=Integer())
    usable = and_(
        Member.merged_into_member_id.is_(None),
        or_(
            Member.birth_year_min.is_(None),
            Member.birth_year_max.is_(None),
            and_(Member.birth_year_max >= lo, Member.birth_year_min <= hi),
        ),
    )
    return select(u.c.key, u.c.entity_id, case((usable, 1), else_=0)).join(
        Member, Member.id == u.c.entity_id
    )


#: PostgreSQL: the member blocking lookup as one statement whatever the number of keys (one
#: prepared plan). Each key reads at most ``lim`` index entries (LATERAL ... LIMIT), each hit
#: of a usable key is joined to its member by primary key (never a scan of members: a hash
#: join over all members grew with the table), and a stop key comes back as one row with its
#: counts, its members not read. Counting before the join relies on every key row having its
#: member, which holds: members are merged, never deleted. The LIMIT 1 keeps the member join a
#: lookup per row: without it the planner may flatten it into a hash join over all members.
_PG_MEMBER_LOOKUP = """
SELECT h.key, h.entity_id, m.usable, h.n_all, h.n_others FROM (
  SELECT k.key, lk.entity_id,
    count(*) OVER w AS n_all,
    count(*) FILTER (WHERE lk.entity_id IS DISTINCT FROM CAST(%(exclude)s AS uuid)) OVER w AS n_others,
    row_number() OVER w AS rn
  FROM unnest(CAST(%(keys)s AS varchar[])) AS k(key)
  CROSS JOIN LATERAL (SELECT entity_id FROM linkage_keys
                      WHERE entity_type = %(entity_type)s AND key = k.key LIMIT %(lim)s) AS lk
  WINDOW w AS (PARTITION BY k.key)
) AS h
CROSS JOIN LATERAL (
  SELECT CASE WHEN merged_into_member_id IS NULL AND (birth_year_min IS NULL
    OR birth_year_max IS NULL OR (birth_year_max >= %(lo)s AND birth_year_min <= %(hi)s))
    THEN 1 ELSE 0 END AS usable
  FROM members WHERE members.id = h.entity_id LIMIT 1) AS m
WHERE h.n_all <= %(cap)s OR h.rn = 1
"""


def one_statement(session: Session) -> bool:
    """Whether the member lookup runs as :data:`_PG_MEMBER_LOOKUP` (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def pg_lookup_params(keys: list[str], exclude: uuid.UUID | None, params: dict[str, Any]) -> dict[str, Any]:
    """The driver parameters of :data:`_PG_MEMBER_LOOKUP` (also for EXPLAIN in bench/)."""
    cap = match.MAX_KEY_CANDIDATES
    return {"keys": keys, "entity_type": EntityType(params["entity_type"]).value, "lo": params["lo"],
            "hi": params["hi"], "exclude": exclude, "lim": cap + 1, "cap": cap}


def pg_member_rows(
    session: Session, keys: list[str], exclude: uuid.UUID | None, params: dict[str, Any]
) -> tuple[dict[str, set[uuid.UUID]], set[uuid.UUID], dict[str, int]]:
    """(hits of the usable keys, usable ids, other records per key) from one statement."""
    cap = match.MAX_KEY_CANDIDATES
    # Straight on the driver's cursor (the transaction's own connection): a merge reads a few
    # hundred rows here, and building a SQLAlchemy row for each cost more than the query.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(_PG_MEMBER_LOOKUP, pg_lookup_params(keys, exclude, params))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    by_key: dict[str, set[uuid.UUID]] = {}
    ok: set[uuid.UUID] = set()
    counts: dict[str, int] = {}
    for key, entity_id, usable_row, n_all, n_others in rows:
        counts[key] = n_others
        if n_all > cap:
            continue  # a stop key: only its counts came back
        by_key.setdefault(key, set()).add(entity_id)
        if usable_row or key.startswith("mc:"):
            ok.add(entity_id)
    return {k: h - {exclude} for k, h in by_key.items()}, ok, counts
