"""Possible duplicate visits (domain.md 4.1; issue 9 item 6): the same workplace visited by the
same collector on the same day under another instanceID. Never dropped: the pair is kept for
staff, and the later visit is left out of counts until staff decide (``reports.scope``).

An edit (``deprecatedID``) is the same logical submission, so it never pairs with itself; an
edit that changes the workplace, date or collector withdraws a pending pair.

A visit whose workplace was typed (not in the list) registers a new workplace, so the same visit
sent twice registers two. Both workplaces are kept: the second visit is NOT attached to the first
one's workplace. Attaching would be a guess staff cannot undo if the two visits were really two
places of the same name (two branches of a chain in one commune) and it would drop the second
visit's own description (landmark, location, type). Instead the two visits are paired here
exactly as for a listed workplace (the second counted once until staff decide), and the two
workplaces meet again in the workplace duplicates screen, where merging them is one click and
can be undone. "The same workplace" for typed ones: both registered by their visit, a normalised
name in common (``match.workplace_name_key``: generic words and spelling variants removed), and
the same village and commune where both give one.

When staff merge two workplaces, the merged-away workplace's visits meet the survivor's:
``flag_after_workplace_merge`` pairs them the same way (same collector, same day), and
``withdraw_merge_pairs`` takes back, on unmerge, those staff have not decided yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from server.db.models import DuplicateVisitStatus, MonitoringVisit, PossibleDuplicateVisit, Workplace, utcnow
from server.db.models.field_duplicates import HELD
from server.sync.match.workplaces import workplace_name_key
from server.sync.merge.context import MergeContext

_ALIVE = (*HELD, DuplicateVisitStatus.DIFFERENT)

#: (name keys, village code, commune code) of a workplace a visit registered.
TypedKey = tuple[frozenset[tuple[str, str]], str | None, str | None]


def _name_keys(names: Iterable[str | None]) -> Iterable[tuple[str, str]]:
    for name in names:
        if not name:
            continue
        km, latin = workplace_name_key(name)
        if km:
            yield "km", km
        if latin:
            yield "latin", latin
        if not (km or latin):
            # Only generic words ("KTV"): the words themselves are the name.
            yield "raw", " ".join(name.split()).casefold()


def _typed_key(s: Session, visit: MonitoringVisit) -> TypedKey | None:
    """The key of the workplace this visit registered; None when it was chosen from the list."""
    wp = s.get(Workplace, visit.workplace_id) if visit.workplace_id is not None else None
    if wp is None or wp.source_submission_id != visit.submission_id:
        return None
    keys = frozenset(_name_keys(n for wn in wp.names if not wn.is_alias for n in (wn.name_km, wn.name_latin)))
    return keys, wp.village_code, wp.commune_code


def _same_typed(a: TypedKey | None, b: TypedKey | None) -> bool:
    if a is None or b is None or not a[0] & b[0]:
        return False
    return all(x is None or y is None or x == y for x, y in ((a[1], b[1]), (a[2], b[2])))


def _alike(s: Session, visit: MonitoringVisit, other: MonitoringVisit | None) -> bool:
    if other is None or (other.pe_code, other.visit_date) != (visit.pe_code, visit.visit_date):
        return False
    return other.workplace_id == visit.workplace_id or _same_typed(_typed_key(s, visit), _typed_key(s, other))


def _held_ids() -> Select[tuple[uuid.UUID]]:
    return select(PossibleDuplicateVisit.second_visit_id).where(PossibleDuplicateVisit.status.in_(HELD))


def _earlier_same_workplace(s: Session, visit: MonitoringVisit) -> MonitoringVisit | None:
    return s.scalars(select(MonitoringVisit).where(
        MonitoringVisit.workplace_id == visit.workplace_id,
        MonitoringVisit.visit_date == visit.visit_date,
        MonitoringVisit.pe_code == visit.pe_code,
        MonitoringVisit.id != visit.id,
        MonitoringVisit.id.not_in(_held_ids()),
    ).order_by(MonitoringVisit.created_at, MonitoringVisit.id).limit(1)).first()


def _earlier_typed(s: Session, visit: MonitoringVisit) -> MonitoringVisit | None:
    """The earliest counted visit that day by the collector that registered a workplace like the
    one this visit registered (the collector's visits of one day: a handful of rows)."""
    mine = _typed_key(s, visit)
    if mine is None:
        return None
    registered = Workplace.id == MonitoringVisit.workplace_id
    others = s.scalars(select(MonitoringVisit).join(Workplace, registered).where(
        MonitoringVisit.visit_date == visit.visit_date,
        MonitoringVisit.pe_code == visit.pe_code,
        MonitoringVisit.id != visit.id,
        MonitoringVisit.id.not_in(_held_ids()),
        Workplace.source_submission_id == MonitoringVisit.submission_id,
    ).order_by(MonitoringVisit.created_at, MonitoringVisit.id))
    return next((o for o in others if _same_typed(mine, _typed_key(s, o))), None)


def _record_pair(s: Session, first: MonitoringVisit, second: MonitoringVisit,
                 workplace_id: uuid.UUID | None) -> PossibleDuplicateVisit:
    """Pair two visits, the second held out of counts; a withdrawn pair of the two is reopened."""
    again = s.scalar(select(PossibleDuplicateVisit).where(
        PossibleDuplicateVisit.first_visit_id == first.id,
        PossibleDuplicateVisit.second_visit_id == second.id,
    ))
    if again is not None:
        if again.status == DuplicateVisitStatus.WITHDRAWN:
            # Withdrawn by an edit (or an unmerge), and they are alike again: staff decide after all.
            again.status = DuplicateVisitStatus.PENDING
            again.row_version += 1
        return again
    pair = PossibleDuplicateVisit(
        first_visit_id=first.id, second_visit_id=second.id, second_submission_id=second.submission_id,
        workplace_id=workplace_id, pe_code=second.pe_code, visit_date=second.visit_date,
        status=DuplicateVisitStatus.PENDING, row_version=1, created_at=utcnow(),
    )
    s.add(pair)
    s.flush()
    return pair


def flag_possible_duplicate(ctx: MergeContext, visit: MonitoringVisit) -> None:
    """Pair this visit with an earlier counted visit of the same workplace (or of a workplace
    typed alike, see the module docstring), same collector, same day, once."""
    s = ctx.session
    pairs = s.scalars(select(PossibleDuplicateVisit).where(
        or_(PossibleDuplicateVisit.first_visit_id == visit.id,
            PossibleDuplicateVisit.second_visit_id == visit.id),
        PossibleDuplicateVisit.status.in_(_ALIVE),
    )).all() if ctx.remerge else []
    for pair in pairs:
        other = s.get(MonitoringVisit, pair.second_visit_id if pair.first_visit_id == visit.id
                      else pair.first_visit_id)
        if pair.status == DuplicateVisitStatus.PENDING and not _alike(s, visit, other):
            # The edit made them two different visits: nothing left for staff to decide.
            pair.status = DuplicateVisitStatus.WITHDRAWN
            pair.row_version += 1
    if any(p.status in _ALIVE for p in pairs):
        return
    if visit.workplace_id is None or visit.pe_code is None or visit.visit_date is None:
        return
    earlier = _earlier_same_workplace(s, visit) or _earlier_typed(s, visit)
    if earlier is not None:
        _record_pair(s, earlier, visit, earlier.workplace_id)


def _arrival(v: MonitoringVisit) -> tuple[object, str]:
    return v.created_at, str(v.id)


def flag_after_workplace_merge(
    s: Session, survivor_id: uuid.UUID, moved_visit_ids: Sequence[str]
) -> list[str]:
    """After staff merged a workplace into ``survivor_id`` (its visits already re-pointed): pair
    each moved visit still counted with a survivor's visit still counted, same collector, same
    day, the later-arrived one held. A pair staff already decided is left as decided. Returns
    the ids of the pairs this opened (kept in the merge event, for unmerge)."""
    moved = {uuid.UUID(v) for v in moved_visit_ids}
    if not moved:
        return []
    visits = sorted(s.scalars(select(MonitoringVisit).where(
        MonitoringVisit.workplace_id == survivor_id,
        MonitoringVisit.pe_code.is_not(None), MonitoringVisit.visit_date.is_not(None),
    )), key=_arrival)
    ids = [v.id for v in visits]
    held = set(s.scalars(_held_ids().where(PossibleDuplicateVisit.second_visit_id.in_(ids))))
    decided = {frozenset((p.first_visit_id, p.second_visit_id)) for p in s.scalars(
        select(PossibleDuplicateVisit).where(
            PossibleDuplicateVisit.first_visit_id.in_(ids), PossibleDuplicateVisit.second_visit_id.in_(ids),
            PossibleDuplicateVisit.status != DuplicateVisitStatus.WITHDRAWN))}
    opened: list[str] = []
    for v in (v for v in visits if v.id in moved):
        for w in (w for w in visits if w.id not in moved):
            if (v.id in held or w.id in held or (v.pe_code, v.visit_date) != (w.pe_code, w.visit_date)
                    or frozenset((v.id, w.id)) in decided):
                continue
            first, second = sorted((v, w), key=_arrival)
            pair = _record_pair(s, first, second, survivor_id)
            held.add(second.id)
            opened.append(str(pair.id))
    return opened


def withdraw_merge_pairs(s: Session, pair_ids: Sequence[str]) -> None:
    """Unmerge: the pairs the merge opened and staff have not decided no longer hold a visit."""
    for pid in pair_ids:
        pair = s.get(PossibleDuplicateVisit, uuid.UUID(pid))
        if pair is not None and pair.status == DuplicateVisitStatus.PENDING:
            pair.status = DuplicateVisitStatus.WITHDRAWN
            pair.row_version += 1
