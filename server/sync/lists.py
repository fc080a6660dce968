"""Per-collector lists served as form media (FormMedia kinds ENTITY_LIST and COLLECTOR_LIST).

collectors.csv lists the requesting account. members.csv and workplaces.csv are ODK entity
lists (protocol.md 3.4: ``name`` = entity UUID, ``label``, integer ``__version``, then the
properties the forms read), filtered to the collector's area. They never carry names of women,
phones, alerts or risk (domain.md 1.5 rule 6, 2.2). One function per list; the headers must
match the placeholders in forms/media (tests check them).

``list_hash`` is the manifest hash (changes exactly when the bytes change) and
``entity_integrity`` answers Collect's integrity request (protocol.md 1.8).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session, selectinload

from server import errors
from server.db.models import (
    CaseChange,
    Collector,
    EntityType,
    Member,
    MemberStatus,
    Workplace,
    WorkplaceName,
    WorkplaceStatus,
)
from server.reports.device_lists import savings_groups_csv
from server.sync.cases import as_uuid

COLLECTORS_HEADER: tuple[str, ...] = ("name", "label", "communes")
MEMBERS_HEADER: tuple[str, ...] = (
    "name", "label", "__version", "member_code", "pe_code", "savings_group",
)
WORKPLACES_HEADER: tuple[str, ...] = (
    "name", "label", "__version", "last_visit_date", "last_access", "workers_est", "village", "type",
)


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def collectors_csv(session: Session, collector: Collector) -> bytes:
    # The account's own code and label (an account label, never a person's name).
    return _csv(COLLECTORS_HEADER, [(collector.name, collector.name, collector.communes)])


def _live_workplaces(collector: Collector) -> Select[tuple[Workplace]]:
    stmt = select(Workplace).where(
        Workplace.merged_into_workplace_id.is_(None),
        Workplace.status.not_in([WorkplaceStatus.MERGED, WorkplaceStatus.CLOSED]),
    )
    communes = collector.commune_codes
    return stmt.where(Workplace.commune_code.in_(communes)) if communes else stmt.where(false())


def members_csv(session: Session, collector: Collector) -> bytes:
    """The collector's members: those she registered (pe_code) or whose workplace is in her
    communes. Codes only: name = member UUID, label = member_code. Never names or phones."""
    conditions = [Member.pe_code == collector.name]
    if collector.commune_codes:
        conditions.append(
            Member.current_workplace_id.in_(
                select(Workplace.id).where(Workplace.commune_code.in_(collector.commune_codes))
            )
        )
    stmt = (
        select(Member.id, Member.member_code, Member.version, Member.pe_code, Member.savings_group)
        .where(
            or_(*conditions),
            Member.member_code.is_not(None),
            Member.merged_into_member_id.is_(None),
            Member.status.not_in([MemberStatus.WITHDRAWN, MemberStatus.MERGED]),
        )
        .order_by(Member.member_code)
    )
    rows = [
        (str(mid), code, str(version), code, pe or "", group or "")
        for mid, code, version, pe, group in session.execute(stmt)
    ]
    return _csv(MEMBERS_HEADER, rows)


def workplace_label(names: Sequence[WorkplaceName], fallback: str) -> str:
    """The sign names (Khmer / Latin) of a workplace: current names first. Sign names are
    public; no owner, phone, risk or alert ever goes into the label."""
    current = [n for n in names if n.valid_to is None and not n.is_alias] or list(names)
    parts: list[str] = []
    for n in current:
        for value in (n.name_km, n.name_latin):
            if value and value not in parts:
                parts.append(value)
    return " / ".join(parts) or fallback


def workplaces_csv(session: Session, collector: Collector) -> bytes:
    """Workplaces in the collector's communes with the properties the forms read.
    risk_level and alerts are server-only and never listed."""
    workplaces = session.scalars(
        _live_workplaces(collector)
        .options(selectinload(Workplace.names))
        .order_by(Workplace.workplace_code)
    ).all()
    rows = [
        (
            str(wp.id),
            workplace_label(wp.names, wp.workplace_code),
            str(wp.version),
            wp.last_visit_date.isoformat() if wp.last_visit_date else "",
            wp.last_access or "",
            "" if wp.workers_est is None else str(wp.workers_est),
            wp.village_code or "",
            wp.type or "",
        )
        for wp in workplaces
    ]
    return _csv(WORKPLACES_HEADER, rows)


def list_hash(content: bytes) -> str:
    """Manifest hash of a generated list: md5 of its bytes, so it changes exactly when the
    content does and Collect skips unchanged lists (protocol.md 3.4)."""
    return "md5:" + hashlib.md5(content, usedforsecurity=False).hexdigest()


def entity_integrity(
    session: Session, dataset: str, ids: Iterable[str]
) -> dict[str, bool]:
    """``{requested id: deleted?}`` for Collect's integrity check (protocol.md 1.8).

    Deleted means "drop your offline copy": the entity was merged into another, withdrawn,
    closed, or (members) the intake was linked to an existing member with the same card.
    An id the server has not seen yet (its submission may still be on its way) is not deleted.
    """
    wanted = {i: as_uuid(i) for i in ids}
    valid = [u for u in wanted.values() if u is not None]
    result: dict[str, bool] = {}
    if dataset == "members":
        live = {
            mid: (merged is None and status not in (MemberStatus.WITHDRAWN, MemberStatus.MERGED)
                  and code is not None)
            for mid, merged, status, code in session.execute(
                select(Member.id, Member.merged_into_member_id, Member.status, Member.member_code)
                .where(Member.id.in_(valid))
            )
        } if valid else {}
        superseded = set(session.scalars(
            select(CaseChange.entity_id).where(
                CaseChange.entity_type == EntityType.MEMBER,
                CaseChange.field == "superseded_by",
                CaseChange.entity_id.in_(valid),
            )
        )) if valid else set()
    elif dataset == "workplaces":
        live = {
            wid: merged is None and status not in (WorkplaceStatus.MERGED, WorkplaceStatus.CLOSED)
            for wid, merged, status in session.execute(
                select(Workplace.id, Workplace.merged_into_workplace_id, Workplace.status)
                .where(Workplace.id.in_(valid))
            )
        } if valid else {}
        superseded = set()
    else:
        raise errors.NotFound("This list is not on the server. Update your blank forms.")
    for raw, uid in wanted.items():
        if uid is None:
            result[raw] = False
        elif uid in live:
            result[raw] = not live[uid]
        else:
            result[raw] = uid in superseded
    return result


BUILDERS: dict[str, Callable[[Session, Collector], bytes]] = {
    "collectors.csv": collectors_csv,
    "members.csv": members_csv,
    "workplaces.csv": workplaces_csv,
    "savings_groups.csv": savings_groups_csv,
}


def build_list(session: Session, collector: Collector, filename: str) -> bytes:
    builder = BUILDERS.get(filename)
    if builder is None:
        raise errors.NotFound("This list is not on the server. Update your blank forms.")
    return builder(session, collector)
