"""Per-collector lists served as form media (FormMedia kinds ENTITY_LIST and COLLECTOR_LIST).

collectors.csv lists the requesting account. members.csv and workplaces.csv are ODK entity
lists (protocol.md 3.4: ``name`` = entity UUID, ``label``, integer ``__version``, then the
properties the forms read), filtered to the collector's area. They never carry names of women,
phones, alerts or risk (domain.md 1.5 rule 6, 2.2). One function per list; the headers must
match the placeholders in forms/media (tests check them).

``media_hash`` is the manifest hash and ETag of a list. For entity lists it is derived from the
list version kept by database triggers (models/lists.py) and the collector's area, so a 304 and
a manifest cost one small read and never build a list (Central does the same: protocol.md 1.5).
``entity_integrity`` answers Collect's integrity request (protocol.md 1.8).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select, String, cast, false, or_, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server import errors
from server.db.models import (
    CASES_LISTS,
    CaseChange,
    Collector,
    EntityType,
    FormMedia,
    ListVersion,
    MediaKind,
    Member,
    MemberStatus,
    Workplace,
    WorkplaceName,
    WorkplaceStatus,
)
from server.reports.device_lists import savings_groups_csv
from server.sync import area_lists
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
    postgres = _postgres(session)
    stmt = (
        select(_text(Member.id, postgres), Member.member_code, Member.version, Member.pe_code,
               Member.savings_group)
        .where(
            or_(*conditions),
            Member.member_code.is_not(None),
            Member.merged_into_member_id.is_(None),
            Member.status.not_in([MemberStatus.WITHDRAWN, MemberStatus.MERGED]),
        )
        .order_by(Member.member_code)
    )
    rows = (
        (_dashed(mid, postgres), code, version, code, pe or "", group or "")
        for mid, code, version, pe, group in _plain_rows(session.connection(), stmt)
    )
    return _csv(MEMBERS_HEADER, rows)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _text(column: Any, postgres: bool) -> Any:
    """A UUID or date column as text straight from the database: no UUID or date objects built
    and formatted again per row (SQLite keeps UUIDs as 32 hex digits: see ``_dashed``)."""
    return cast(column, String) if postgres else type_coerce(column, String)


def _dashed(uid: str, postgres: bool) -> str:
    return uid if postgres else f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"


def _plain_rows(conn: Connection, stmt: Select[Any]) -> list[Any]:
    """The driver's plain tuples: building 100,000 Row objects costs as much as the query.
    Only for columns whose database value is what the list writes (text, integers)."""
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


class SignName(NamedTuple):
    name_km: str | None
    name_latin: str | None
    valid_to: object
    is_alias: bool


def workplace_label(names: Sequence[WorkplaceName | SignName], fallback: str) -> str:
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
    risk_level and alerts are server-only and never listed.

    One read (workplaces joined to their names, in code order), grouped as it streams: no ORM
    objects, no per-row lookups; PostgreSQL renders the UUIDs as text itself. This is what
    keeps a list of 100,000 workplaces under a second."""
    postgres = _postgres(session)
    stmt = (
        _live_workplaces(collector)
        .with_only_columns(
            _text(Workplace.id, postgres), Workplace.workplace_code, Workplace.version,
            _text(Workplace.last_visit_date, postgres),
            Workplace.last_access, Workplace.workers_est, Workplace.village_code, Workplace.type,
            WorkplaceName.name_km, WorkplaceName.name_latin, WorkplaceName.valid_to,
            WorkplaceName.is_alias,
        )
        .outerjoin(WorkplaceName, WorkplaceName.workplace_id == Workplace.id)
        .order_by(Workplace.workplace_code, WorkplaceName.id)
    )
    conn = session.connection()
    if postgres:
        # The sort of a large area's rows fits in memory instead of spilling to disk.
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    return _csv(WORKPLACES_HEADER, _workplace_rows(_plain_rows(conn, stmt), postgres))


def _one_name_label(km: str | None, latin: str | None, fallback: str) -> str:
    """workplace_label for the usual workplace with a single sign name, without building it."""
    if km and latin and km != latin:
        return f"{km} / {latin}"
    return km or latin or fallback


def _workplace_rows(rows: Sequence[Sequence[Any]], postgres: bool) -> Iterator[tuple[Any, ...]]:
    """One CSV row per workplace from its joined name rows (consecutive: ordered by code)."""
    i, n = 0, len(rows)
    while i < n:
        first = rows[i]
        j = i + 1
        while j < n and rows[j][1] == first[1]:
            j += 1
        wid, code, version, visited, access, workers, village, kind, km, latin = first[:10]
        if j == i + 1:
            label = _one_name_label(km, latin, code)
        else:
            label = workplace_label([SignName(*r[8:]) for r in rows[i:j]], code)
        yield (
            _dashed(wid, postgres),
            label,
            version,
            visited or "",
            access or "",
            "" if workers is None else workers,
            village or "",
            kind or "",
        )
        i = j


def list_not_found() -> errors.NotFound:
    return errors.NotFound("This list is not on the server. Update your blank forms.")


# Part of every entity-list hash: raise it when the bytes of a list change shape (columns,
# labels) without the data changing, so phones fetch the new shape.
LIST_FORMAT = "2"


def list_version(session: Session) -> int:
    """The version of the case data every entity list is built from (bumped by triggers)."""
    return session.scalar(select(ListVersion.version).where(ListVersion.name == CASES_LISTS)) or 0


def entity_list_hash(filename: str, version: int, collector_id: int, name: str, communes: str) -> str:
    """An entity list's hash (and ETag): everything its bytes depend on, i.e. the data (version),
    the list and its shape, and the collector's area and code (members.csv lists the members
    she registered). Also computed from one read by server/sync/list_poll.py."""
    key = "\n".join((LIST_FORMAT, filename, str(version), str(collector_id), name, communes))
    return hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()


def media_hash(session: Session, collector: Collector, media: FormMedia) -> str:
    """The manifest hash (and ETag) of a form media file, as served to this collector."""
    if media.kind == MediaKind.STATIC and media.blob is not None:
        return media.blob.md5
    if media.kind == MediaKind.ENTITY_LIST:
        return entity_list_hash(
            media.filename, list_version(session), collector.id, collector.name, collector.communes
        )
    if media.filename in area_lists.AREA_LISTS:
        return area_lists.area_hash(collector, media.filename)
    # The collectors list is one row: hash its bytes.
    return hashlib.md5(media_bytes(session, collector, media), usedforsecurity=False).hexdigest()


def media_bytes(session: Session, collector: Collector, media: FormMedia) -> bytes:
    if media.kind == MediaKind.STATIC:
        assert media.blob is not None
        return media.blob.content
    return build_list(session, collector, media.filename)


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
        raise list_not_found()
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
    area_lists.AREA_COMMUNES: lambda _s, collector: area_lists.area_communes_csv(collector),
    area_lists.AREA_VILLAGES: lambda _s, collector: area_lists.area_villages_csv(collector),
}


def build_list(session: Session, collector: Collector, filename: str) -> bytes:
    builder = BUILDERS.get(filename)
    if builder is None:
        raise list_not_found()
    return builder(session, collector)
