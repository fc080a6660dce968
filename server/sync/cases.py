"""Case-database helpers shared by merge, review and the staff API: codes, provenance
(case_changes), following merged records to their survivor, new workplaces.
Record linkage (keys, candidates, pairs) is in :mod:`server.sync.linkage`.

No Flask, no commits: functions take a Session, flush when they need ids, and leave the
transaction to the edge. Nothing here logs personal data.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server.db.models import (
    CaseChange,
    EntityType,
    Member,
    Referral,
    Workplace,
    WorkplaceName,
    WorkplaceStatus,
    WorkplaceVersion,
    utcnow,
)
from server.sync import match
from server.sync.bulk_insert import insert_rows

# Re-exported: callers written before linkage moved out of this module keep working.
from server.sync.linkage import add_candidate_pair as add_candidate_pair
from server.sync.linkage import candidates_by_keys as candidates_by_keys
from server.sync.linkage import member_record as member_record
from server.sync.linkage import ordered_pair as ordered_pair
from server.sync.linkage import refresh_member_keys as refresh_member_keys
from server.sync.linkage import refresh_workplace_keys as refresh_workplace_keys
from server.sync.linkage import store_new_keys
from server.sync.linkage import workplace_record as workplace_record
from server.sync.parse import as_uuid as as_uuid

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
    record_unchanged: frozenset[str] = frozenset(),
) -> list[str]:
    """Set attributes that differ, recording each change in case_changes. Returns the fields.
    Fields in ``record_unchanged`` are recorded even when equal (a new record's first values)."""
    changed = []
    rows: list[dict[str, Any]] = []
    for name, value in values.items():
        old = getattr(obj, name)
        if old == value and name not in record_unchanged:
            continue
        setattr(obj, name, value)
        rows.append(_change_row(entity_type, obj.id, name, old, value, version_id=version_id,
                                actor=actor))
        changed.append(name)
    if changed and hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
    if rows:
        # One INSERT for all fields (no RETURNING: nothing needs the ids) instead of one per
        # field at the next flush. It flushes what is pending first, so the ids keep the order
        # of the changes.
        insert_rows(session, CaseChange.__table__, rows)
    return changed


def _change_row(
    entity_type: EntityType,
    entity_id: uuid.UUID,
    field: str,
    old: Any,
    new: Any,
    *,
    version_id: int | None,
    actor: str,
) -> dict[str, Any]:
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "submission_version_id": version_id,
        "merge_event_id": None,
        "actor": actor,
        "at": utcnow(),
    }


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
    names: list[WorkplaceName] = []
    if name_km or name_latin:
        names.append(WorkplaceName(
            workplace_id=wp.id,
            name_km=name_km,
            name_latin=name_latin,
            valid_from=valid_from,
            source_submission_id=submission_id,
        ))  # fmt: skip
        session.add(names[0])
    # Its names are known: no reload of the relationship when its keys are computed.
    set_committed_value(wp, "names", names)
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
    store_new_keys(session, EntityType.WORKPLACE, wp.id,
                   match.workplace_blocking_keys(workplace_record(wp)))
    return wp
