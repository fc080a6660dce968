"""Case-database helpers shared by merge, review and the staff API.

No Flask, no commits: functions take a Session, flush when they need ids, and leave the
transaction to the edge. Nothing here logs personal data.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, select, union_all
from sqlalchemy.orm import Session

from server.db.models import (
    AliasKind,
    CandidatePair,
    CaseChange,
    EntityType,
    LinkageKey,
    Member,
    Referral,
    Workplace,
    WorkplaceName,
    WorkplaceStatus,
    WorkplaceVersion,
    utcnow,
)
from server.sync import match

# Crockford base32 without I, L, O, U: codes are read aloud and typed on phones.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#: Workplace entity properties the forms save (entities save_to) and read from workplaces.csv.
WORKPLACE_PROPERTIES: tuple[str, ...] = ("last_visit_date", "last_access", "workers_est")


def random_code(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_CROCKFORD) for _ in range(length))


def new_workplace_code(session: Session) -> str:
    """A short unused code like ``W7K3Q9`` (random: no sequence to race on)."""
    while True:
        code = random_code("W", 5)
        if session.scalar(select(Workplace.id).where(Workplace.workplace_code == code)) is None:
            return code


def new_case_code(session: Session) -> str:
    while True:
        code = random_code("C", 6)
        if session.scalar(select(Referral.id).where(Referral.case_code == code)) is None:
            return code


def as_uuid(value: Any) -> uuid.UUID | None:
    """A UUID from ``uuid:…``-prefixed or plain text; None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.lower().startswith("uuid:"):
        text = text[5:]
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return str(value)


def record_change(
    session: Session,
    entity_type: EntityType,
    entity_id: uuid.UUID,
    field: str,
    old: Any,
    new: Any,
    *,
    version_id: int | None = None,
    merge_event_id: uuid.UUID | None = None,
    actor: str = "merge",
) -> None:
    session.add(
        CaseChange(
            entity_type=entity_type,
            entity_id=entity_id,
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            submission_version_id=version_id,
            merge_event_id=merge_event_id,
            actor=actor,
            at=utcnow(),
        )
    )


def set_fields(
    session: Session,
    obj: Any,
    entity_type: EntityType,
    values: Mapping[str, Any],
    *,
    version_id: int | None = None,
    actor: str = "merge",
) -> list[str]:
    """Set attributes that differ, recording each change in case_changes. Returns the fields."""
    changed = []
    for name, value in values.items():
        old = getattr(obj, name)
        if old == value:
            continue
        setattr(obj, name, value)
        record_change(session, entity_type, obj.id, name, old, value, version_id=version_id,
                      actor=actor)
        changed.append(name)
    if changed and hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
    return changed


def ordered_pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


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
    for key in sorted(wanted - have):
        session.add(LinkageKey(entity_type=entity_type, entity_id=entity_id, key=key))


def candidates_by_keys(
    session: Session, entity_type: EntityType, keys: Iterable[str], exclude: uuid.UUID | None
) -> list[uuid.UUID]:
    """Entities sharing a blocking key, ignoring "stop keys" shared by too many records.

    One query reads at most ``MAX_KEY_CANDIDATES + 1`` rows per key (a LIMIT per key), so
    the cost does not grow with the table: a stop key is recognised without counting all
    of its rows."""
    keys = sorted(set(keys))
    if not keys:
        return []
    cap = match.MAX_KEY_CANDIDATES
    per_key = [
        select(LinkageKey.key, LinkageKey.entity_id)
        .where(LinkageKey.entity_type == entity_type, LinkageKey.key == k)
        .limit(cap + 1)
        .subquery()
        for k in keys
    ]
    rows = session.execute(union_all(*(select(q.c.key, q.c.entity_id) for q in per_key))).all()
    by_key: dict[str, set[uuid.UUID]] = {}
    for key, entity_id in rows:
        by_key.setdefault(key, set()).add(entity_id)
    ids = {i for hits in by_key.values() if len(hits) <= cap for i in hits}
    ids.discard(exclude)
    return sorted(ids, key=str)


# --- members ----------------------------------------------------------------------------------
def member_answers(member: Member) -> dict[str, str | None]:
    """A member row as member_intake answers, for match.MemberRecord.from_answers."""
    phone = member.phones[0] if member.phones else None
    nicks = [a.value for a in member.aliases if a.kind == AliasKind.NICKNAME and a.from_member_id is None]
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


def member_record(member: Member) -> match.MemberRecord:
    return match.MemberRecord.from_answers(
        member_answers(member),
        member.intake_date or member.created_at.date(),
        record_id=str(member.id),
    )


def refresh_member_keys(session: Session, member: Member) -> None:
    session.flush()
    replace_linkage_keys(
        session, EntityType.MEMBER, member.id, match.blocking_keys(member_record(member))
    )


def resolve_member(session: Session, member_id: uuid.UUID | None) -> Member | None:
    """The member, following merged_into links to the survivor."""
    seen = set()
    member = session.get(Member, member_id) if member_id else None
    while member is not None and member.merged_into_member_id and member.id not in seen:
        seen.add(member.id)
        member = session.get(Member, member.merged_into_member_id)
    return member


# --- workplaces -------------------------------------------------------------------------------
def resolve_workplace(session: Session, workplace_id: uuid.UUID | None) -> Workplace | None:
    seen = set()
    wp = session.get(Workplace, workplace_id) if workplace_id else None
    while wp is not None and wp.merged_into_workplace_id and wp.id not in seen:
        seen.add(wp.id)
        wp = session.get(Workplace, wp.merged_into_workplace_id)
    return wp


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


def create_workplace(
    session: Session,
    *,
    name_km: str | None = None,
    name_latin: str | None = None,
    type: str | None = None,
    village_code: str | None = None,
    commune_code: str | None = None,
    landmark_text: str | None = None,
    geopoint: tuple[float, float] | None = None,
    status: WorkplaceStatus = WorkplaceStatus.OPEN,
    workplace_id: uuid.UUID | None = None,
    submission_id: uuid.UUID | None = None,
    version_id: int | None = None,
    valid_from: date | None = None,
    actor: str = "merge",
) -> Workplace:
    """A new workplace entity at version 1 (with its first name and linkage keys)."""
    if commune_code is None and village_code:
        commune_code = village_code[:6]
    wp = Workplace(
        id=workplace_id or uuid.uuid4(),
        workplace_code=new_workplace_code(session),
        type=type,
        village_code=village_code,
        commune_code=commune_code,
        landmark_text=landmark_text,
        latitude=geopoint[0] if geopoint else None,
        longitude=geopoint[1] if geopoint else None,
        status=status,
        version=1,
        source_submission_id=submission_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(wp)
    session.flush()
    if name_km or name_latin:
        session.add(
            WorkplaceName(
                workplace_id=wp.id,
                name_km=name_km,
                name_latin=name_latin,
                valid_from=valid_from,
                source_submission_id=submission_id,
            )
        )
    session.add(
        WorkplaceVersion(
            workplace_id=wp.id,
            version=1,
            properties={p: None for p in WORKPLACE_PROPERTIES},
            submission_id=submission_id,
            submission_version_id=version_id,
            created_at=utcnow(),
        )
    )
    record_change(session, EntityType.WORKPLACE, wp.id, "created", None, wp.workplace_code,
                  version_id=version_id, actor=actor)
    refresh_workplace_keys(session, wp)
    return wp
