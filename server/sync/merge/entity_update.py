"""ODK entity updates of a workplace (protocol.md 3.5): versions, last write by visit date, and
conflicts when a phone updated from an older version than the server's.

The properties in force are those of the update with the latest visit date (then the highest
version): an offline visit that arrives late never overwrites a newer one's values
(domain.md 3.2 "apply both in order of visit_date"). Each update stores all properties, so
that one row is the state: a merge reads one or two rows, never the workplace's history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from server.db.models import (
    ConflictKind,
    EntityConflict,
    EntityType,
    Workplace,
    WorkplaceVersion,
    utcnow,
)
from server.sync import cases
from server.sync.merge.answers import EntityMeta, int_or_none, parse_date
from server.sync.merge.context import MergeContext

WV = WorkplaceVersion


def state_from_versions(rows: list[Any]) -> dict[str, Any]:
    """Entity properties after applying updates (rows with ``properties``, ``event_date``,
    ``version``) in event order (visit date), then version. Pure."""
    state: dict[str, Any] = {p: None for p in cases.WORKPLACE_PROPERTIES}
    for row in sorted(rows, key=lambda r: (r.event_date or date.min, r.version)):
        state.update(row.properties or {})
    return state


def _order_key(row: Any) -> tuple[date, int]:
    return (row.event_date or date.min, row.version)


def _state(session: Session, wp_id: Any, max_version: int | None = None) -> tuple[dict[str, Any], Any]:
    """(properties in force, the row that set them), from the winning update at or below
    ``max_version``. Falls back to folding every row if that update lacks a property."""
    q = select(WV.properties, WV.event_date, WV.version).where(WV.workplace_id == wp_id)
    if max_version is not None:
        q = q.where(WV.version <= max_version)
    # Dated updates win over undated ones (a missing date sorts as the earliest).
    top: Row[Any] | None = session.execute(
        q.where(WV.event_date.is_not(None)).order_by(WV.event_date.desc(), WV.version.desc()).limit(1)
    ).first() or session.execute(
        q.where(WV.event_date.is_(None)).order_by(WV.version.desc()).limit(1)
    ).first()
    if top is None:
        return state_from_versions([]), None
    if set(top.properties or {}) >= set(cases.WORKPLACE_PROPERTIES):
        return {**state_from_versions([]), **top.properties}, top
    return state_from_versions(list(session.execute(q))), top


def _conflict(
    ctx: MergeContext, wp: Workplace, props: dict[str, Any], entity: EntityMeta | None,
    now: dict[str, Any],
) -> tuple[ConflictKind | None, list[str]]:
    """Updates after the base that are not this device's own earlier updates in the same
    offline branch are "parallel" to this one: a conflict, hard when they changed a property
    this update also changes to another value."""
    base = entity.base_version if entity else None
    branch = entity.branch_id if entity else None
    if base is None or base >= wp.version:
        return None, []  # no update can be newer than the workplace's own version
    parallel = select(WV.id).where(WV.workplace_id == wp.id, WV.version > base)
    if branch:
        parallel = parallel.where(or_(WV.branch_id.is_(None), WV.branch_id != branch))
    if ctx.session.execute(parallel.limit(1)).first() is None:
        return None, []
    at_base, _ = _state(ctx.session, wp.id, max_version=base)
    server_changed = {p for p in cases.WORKPLACE_PROPERTIES if now.get(p) != at_base.get(p)}
    received_changed = {p for p, v in props.items() if v != at_base.get(p)}
    overlapping = sorted(p for p in server_changed & received_changed if props.get(p) != now.get(p))
    return (ConflictKind.HARD if overlapping else ConflictKind.SOFT), overlapping


def apply_entity_update(
    ctx: MergeContext, wp: Workplace, props: dict[str, Any], entity: EntityMeta | None
) -> None:
    """ODK entity update (protocol.md 3.5): version = current + 1, last write by visit date;
    a baseVersion other than the current version is recorded as a soft or hard conflict.
    Never rejects the visit."""
    s = ctx.session
    now, top = _state(s, wp.id)
    conflict, overlapping = _conflict(ctx, wp, props, entity, now)
    current = wp.version
    new_version = current + 1
    applied = WorkplaceVersion(
        workplace_id=wp.id, version=new_version,
        base_version=entity.base_version if entity else None,
        trunk_version=entity.trunk_version if entity else None,
        branch_id=entity.branch_id if entity else None, properties=props,
        event_date=ctx.event_date, submission_id=ctx.submission.id, submission_version_id=ctx.vid,
        created_at=utcnow(),
    )
    s.add(applied)
    state = {**now, **props} if top is None or _order_key(applied) > _order_key(top) else now
    cases.set_fields(s, wp, EntityType.WORKPLACE, {
        "last_visit_date": parse_date(state.get("last_visit_date")),
        "last_access": state.get("last_access"),
        "workers_est": int_or_none(state.get("workers_est")),
        "version": new_version,
    }, version_id=ctx.vid)
    if conflict is not None:
        c = EntityConflict(
            entity_type=EntityType.WORKPLACE, entity_id=wp.id, base_version=applied.base_version,
            server_version=current, applied_version=new_version, kind=conflict,
            properties=overlapping, branch_id=applied.branch_id, submission_id=ctx.submission.id,
            submission_version_id=ctx.vid, created_at=utcnow(),
        )
        s.add(c)
        wp.has_conflict = True
        s.flush()
        ctx.outcome.conflicts.append(c.id)
