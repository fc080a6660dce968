"""The PostgreSQL member blocking lookup (one LATERAL statement) finds the same candidates, in
the same order, with the same key counts, as the portable one (a UNION of per-key LIMITs)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from server.db.models import EntityType, LinkageKey, Member
from server.db.session import Database
from server.sync import key_lookup, linkage, match


def _member(i: int, **over: object) -> dict:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    row = {"id": uuid.UUID(int=i + 1), "created_at": now, "updated_at": now, "version": 1,
           "birth_year_min": 1998, "birth_year_max": 2002}
    row.update(over)
    return row


def test_pg_lookup__same_candidates_order_and_counts_as_the_portable_lookup(
    db: Database, monkeypatch: pytest.MonkeyPatch
):
    if db.is_sqlite:
        pytest.skip("the one-statement lookup is PostgreSQL's")
    cap = match.MAX_KEY_CANDIDATES
    members = [_member(i) for i in range(150)]  # every key row has its member (none is deleted)
    members[3]["birth_year_min"], members[3]["birth_year_max"] = 1970, 1975  # the same card: kept
    members[4]["birth_year_min"] = members[4]["birth_year_max"] = None  # unknown: kept
    members[5]["birth_year_min"], members[5]["birth_year_max"] = 1970, 1975  # disjoint: dropped
    keys: list[tuple[str, int]] = []
    keys += [("km:stop|y2000", i) for i in range(cap + 15)]  # a stop key (a common name)
    keys += [("km:edge|y2000", i) for i in range(100, 100 + cap)]  # exactly the cap: usable
    keys += [("lc:rare|y2000", i) for i in (1, 2, 3, 4, 5)]
    keys += [("ph:+85597000", i) for i in (2, 6)]
    keys += [("mc:ABC", 3)]  # the same card is kept whatever its birth years
    new = uuid.UUID(int=999)
    keys += [(k, 998) for k in ("km:stop|y2000", "lc:rare|y2000", "ph:+85597000", "mc:ABC")]
    with db.transaction() as s:
        s.execute(insert(Member), [*members, _member(997)])
        s.execute(insert(Member), [{**_member(0), "id": new}])
        s.execute(insert(LinkageKey), [
            {"entity_type": EntityType.MEMBER, "entity_id": uuid.UUID(int=i + 1), "key": k}
            for k, i in keys
        ])  # fmt: skip
        s.execute(insert(Member).values(**{**_member(1000), "merged_into_member_id": new}))
        s.execute(insert(LinkageKey).values(entity_type=EntityType.MEMBER,
                                            entity_id=uuid.UUID(int=1001), key="lc:rare|y2000"))
    wanted = ["km:stop|y2000", "km:edge|y2000", "lc:rare|y2000", "ph:+85597000", "mc:ABC", "kn:none"]

    def lookup(exclude: uuid.UUID | None) -> tuple[list[uuid.UUID], dict[str, int]]:
        counts: dict[str, int] = {}
        with db.sessionmaker() as s:
            ids = linkage.candidates_by_keys(s, EntityType.MEMBER, wanted, exclude, key_counts=counts,
                                             birth_years=(1999, 2001), limit=match.MAX_SCORED_CANDIDATES)
        return ids, counts

    for exclude in (None, uuid.UUID(int=999), uuid.UUID(int=3)):
        one = lookup(exclude)
        monkeypatch.setattr(key_lookup, "one_statement", lambda _s: False)
        portable = lookup(exclude)
        monkeypatch.undo()
        assert one == portable
        assert one[1]["km:stop|y2000"] in (cap, cap + 1) and "kn:none" not in one[1]
        assert uuid.UUID(int=6) not in one[0]
        assert {uuid.UUID(int=4), uuid.UUID(int=5)} <= set(one[0])
