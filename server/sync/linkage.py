"""Record linkage in the database: each entity's blocking keys (an indexed table), the
candidates sharing them, members and workplaces as match records, and review pairs.

No Flask, no commits: functions take a Session and flush when they need ids.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Session

from server.db.models import (
    AliasKind,
    CandidatePair,
    EntityType,
    LinkageKey,
    Member,
    MemberAlias,
    MemberPhone,
    Workplace,
    utcnow,
)
from server.sync import key_lookup, match
from server.sync.bulk_insert import insert_rows
from server.sync.clusters import ordered_pair


def add_candidate_pair(
    session: Session,
    entity_type: EntityType,
    a: uuid.UUID,
    b: uuid.UUID,
    result: match.MatchResult,
    *,
    submission_id: uuid.UUID | None = None,
    extra_evidence: Iterable[str] = (),
) -> CandidatePair:
    """Add (or return the existing) review pair for two entities."""
    a_id, b_id = ordered_pair(a, b)
    pair = session.scalar(
        select(CandidatePair).where(
            CandidatePair.entity_type == entity_type,
            CandidatePair.a_id == a_id,
            CandidatePair.b_id == b_id,
        )
    )
    if pair is not None:
        return pair
    pair = CandidatePair(
        entity_type=entity_type,
        a_id=a_id,
        b_id=b_id,
        score=result.score,
        band=result.band if result.band != match.BAND_NONE else result.raw_band,
        evidence={
            "codes": [*result.evidence, *extra_evidence],
            "veto": result.veto,
            "cap": getattr(result, "cap", None),
            "weight": getattr(result, "weight", None),
        },
        source_submission_id=submission_id,
        created_at=utcnow(),
    )
    session.add(pair)
    session.flush()
    return pair


# --- linkage keys -----------------------------------------------------------------------------
def replace_linkage_keys(
    session: Session, entity_type: EntityType, entity_id: uuid.UUID, keys: Iterable[str]
) -> None:
    wanted = {k[:255] for k in keys}
    have = set(
        session.scalars(
            select(LinkageKey.key).where(
                LinkageKey.entity_type == entity_type, LinkageKey.entity_id == entity_id
            )
        )
    )
    gone = have - wanted
    if gone:
        session.execute(
            delete(LinkageKey).where(
                LinkageKey.entity_type == entity_type,
                LinkageKey.entity_id == entity_id,
                LinkageKey.key.in_(gone),
            )
        )
    new = sorted(wanted - have)
    if new:
        # One INSERT without RETURNING (nothing reads the ids).
        insert_rows(session, LinkageKey.__table__,
                    [{"entity_type": entity_type, "entity_id": entity_id, "key": key} for key in new])


def candidates_by_keys(
    session: Session,
    entity_type: EntityType,
    keys: Iterable[str],
    exclude: uuid.UUID | None,
    *,
    key_counts: dict[str, int] | None = None,
    birth_years: tuple[int, int] | None = None,
    limit: int | None = None,
) -> list[uuid.UUID]:
    """Entities sharing a blocking key, ignoring "stop keys" shared by too many records.

    One query reads at most ``MAX_KEY_CANDIDATES + 1`` rows per key (a LIMIT per key), so
    the cost does not grow with the table: a stop key is recognised without counting all
    of its rows.

    Members only (``entity_type`` MEMBER), all from that same query:

    * ``key_counts``, when given, is filled with the number of other records under each key
      (capped at ``MAX_KEY_CANDIDATES + 1``), for the common-name penalty of
      :func:`match.score_members`;
    * ``birth_years``: members whose stored ``birth_year_min``/``max`` are disjoint from
      these bounds are dropped (score_members vetoes them), as are merged members; unknown
      bounds are kept, and so is the same member_code (an ``mc:`` key), which decide()
      still sends to review;
    * ``limit``: only the best ``limit`` of :func:`match.rank_candidates` are returned, in
      that order (same card first, then most shared keys, rarest keys).
    """
    keys = sorted(set(keys))
    if not keys:
        return []
    cap = match.MAX_KEY_CANDIDATES
    member_filter = entity_type == EntityType.MEMBER and (
        birth_years is not None or limit is not None or key_counts is not None
    )
    params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(keys)}
    params["entity_type"] = entity_type
    if member_filter:
        lo, hi = birth_years if birth_years is not None else (key_lookup.NO_YEAR_LO, key_lookup.NO_YEAR_HI)
        params.update(lo=lo, hi=hi)
        if key_lookup.one_statement(session):
            hits, ok, counts = key_lookup.pg_member_rows(session, keys, exclude, params)
            if key_counts is not None:
                key_counts.update(counts)
            return match.rank_candidates({k: h & ok for k, h in hits.items()}, key_counts, limit)
        rows = session.execute(key_lookup.key_lookup(len(keys), True), params).all()
    else:
        rows = [(k, i, 1) for k, i in session.execute(key_lookup.key_lookup(len(keys), False), params)]
    by_key: dict[str, set[uuid.UUID]] = {}
    ok: set[uuid.UUID] = set()
    for key, entity_id, usable_row in rows:
        by_key.setdefault(key, set()).add(entity_id)
        if usable_row or key.startswith("mc:"):
            ok.add(entity_id)
    hits = {k: hits - {exclude} for k, hits in by_key.items() if len(hits) <= cap}
    if key_counts is not None:
        key_counts.update({k: len(h - {exclude}) for k, h in by_key.items()})
    if not member_filter:
        ids = {i for h in hits.values() for i in h}
        return sorted(ids, key=str)
    hits = {k: h & ok for k, h in hits.items()}
    return match.rank_candidates(hits, key_counts, limit)


# --- members ----------------------------------------------------------------------------------
def member_answers(member: Member) -> dict[str, str | None]:
    """A member row as member_intake answers, for match.MemberRecord.from_answers."""
    nicks = [a.value for a in member.aliases if a.kind == AliasKind.NICKNAME and a.from_member_id is None]
    return _answers(member, member.phones[0] if member.phones else None, nicks)


def _answers(member: Any, phone: Any, nicks: list[str]) -> dict[str, str | None]:
    return {
        "member_code": member.member_code,
        "family_name_km": member.family_name_km,
        "given_name_km": member.given_name_km,
        "name_latin": member.name_latin_raw,
        "nicknames": ", ".join(nicks) or None,
        "dob_known": "yes" if member.dob else "no",
        "dob": member.dob.isoformat() if member.dob else None,
        "age_stated": str(member.age_at_intake) if member.age_at_intake is not None else None,
        "age_source": member.age_source,
        "zodiac": member.zodiac,
        "phone_owner": phone.owner_type if phone else None,
        "phone": phone.phone_e164 if phone else None,
        "origin_village": member.origin_village_code,
        "origin_commune": member.origin_commune_code,
        "origin_village_text": member.origin_text,
        "workplace": str(member.current_workplace_id) if member.current_workplace_id else None,
        "sector": member.sector,
        "pe_code": member.pe_code,
        "is_minor": "no",
    }


_RECORD_COLUMNS = (
    Member.id, Member.member_code, Member.family_name_km, Member.given_name_km,
    Member.name_latin_raw, Member.dob, Member.age_at_intake, Member.age_source, Member.zodiac,
    Member.origin_village_code, Member.origin_commune_code, Member.origin_text,
    Member.current_workplace_id, Member.sector, Member.pe_code, Member.intake_date,
    Member.created_at,
)  # fmt: skip


_NICK_SEP = "\x1f"  # cannot occur in a nickname (they are split on commas and trimmed)


@functools.lru_cache(maxsize=1)
def _record_query() -> Any:
    """Members' record columns with their first phone and their own nicknames, one query for
    the members in the expanding parameter ``ids``; built once (its cache key cost more than
    running it)."""
    first_phone = (
        select(MemberPhone.phone_e164, MemberPhone.owner_type)
        .where(MemberPhone.member_id == Member.id)
        .order_by(MemberPhone.id)
        .limit(1)
    )
    nicks = (
        select(func.aggregate_strings(MemberAlias.value, _NICK_SEP))
        .where(MemberAlias.member_id == Member.id, MemberAlias.kind == AliasKind.NICKNAME,
               MemberAlias.from_member_id.is_(None))
        .scalar_subquery()
    )  # fmt: skip
    return select(
        *_RECORD_COLUMNS,
        first_phone.with_only_columns(MemberPhone.phone_e164).scalar_subquery().label("phone_e164"),
        first_phone.with_only_columns(MemberPhone.owner_type).scalar_subquery().label("owner_type"),
        nicks.label("nicks"),
    ).where(Member.id.in_(bindparam("ids", expanding=True)), Member.merged_into_member_id.is_(None))


def member_records(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, match.MemberRecord]:
    """:func:`member_record` of several unmerged members, read with one plain query (only the
    columns a record needs, no ORM objects): the same records as loading the members."""
    ids = list(ids)
    if not ids:
        return {}
    out: dict[uuid.UUID, match.MemberRecord] = {}
    for m in session.execute(_record_query(), {"ids": ids}):
        phone = m if m.phone_e164 is not None else None
        nicks = m.nicks.split(_NICK_SEP) if m.nicks else []
        out[m.id] = _member_record(
            str(m.id), m.intake_date or m.created_at.date(), tuple(_answers(m, phone, nicks).items())
        )
    return out


def member_record(member: Member) -> match.MemberRecord:
    """The member as a match record. Built from (and cached on) exactly what it depends on,
    so an edited member, phone or nickname gives a new record, never a stale one."""
    return _member_record(
        str(member.id),
        member.intake_date or member.created_at.date(),
        tuple(member_answers(member).items()),
    )


@functools.lru_cache(maxsize=4096)
def _member_record(
    record_id: str, intake_date: date, answers: tuple[tuple[str, str | None], ...]
) -> match.MemberRecord:
    # MemberRecord is frozen and pure, and caches its derived keys (the Khmer/Latin
    # normalisation that dominated scoring), so repeat candidates cost a dict lookup.
    return match.MemberRecord.from_answers(dict(answers), intake_date, record_id=record_id)


def store_new_member_keys(
    session: Session, member: Member, phone: Any, nicknames: list[str]
) -> None:
    """Blocking keys of a member created in this transaction, from the values just written
    (her first phone, her nicknames): no reload, and no old keys to compare with."""
    record = _member_record(
        str(member.id), member.intake_date or member.created_at.date(),
        tuple(_answers(member, phone, nicknames).items()),
    )
    store_new_keys(session, EntityType.MEMBER, member.id, match.blocking_keys(record))


def store_new_keys(
    session: Session, entity_type: EntityType, entity_id: uuid.UUID, keys: Iterable[str]
) -> None:
    """Blocking keys of an entity created in this transaction (it has none yet): one INSERT."""
    rows = [{"entity_type": entity_type, "entity_id": entity_id, "key": k}
            for k in sorted({k[:255] for k in keys})]  # fmt: skip
    insert_rows(session, LinkageKey.__table__, rows)


def refresh_member_keys(session: Session, member: Member) -> None:
    session.flush()
    replace_linkage_keys(
        session, EntityType.MEMBER, member.id, match.blocking_keys(member_record(member))
    )


def workplace_record(wp: Workplace) -> match.WorkplaceRecord:
    names: list[str] = []
    for n in wp.names:
        names += [x for x in (n.name_km, n.name_latin) if x]
    geo = (wp.latitude, wp.longitude) if wp.latitude is not None and wp.longitude is not None else None
    return match.WorkplaceRecord(
        workplace_id=str(wp.id),
        names=tuple(names),
        village_code=wp.village_code,
        commune_code=wp.commune_code,
        geopoint=geo,
    )


def refresh_workplace_keys(session: Session, wp: Workplace) -> None:
    session.flush()
    session.refresh(wp, ["names"])
    replace_linkage_keys(
        session, EntityType.WORKPLACE, wp.id, match.workplace_blocking_keys(workplace_record(wp))
    )
