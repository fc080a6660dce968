"""Imports of staff records from CSV or XLSX: check every row, store all or nothing, undo a batch.

A kind (``server.reports.import_kinds``) names its columns, how each cell is parsed, and how a
checked row becomes database rows. ``check_file`` parses the whole file and returns every row's
errors (row number as the spreadsheet shows it, column, reason) and a preview; ``apply_file``
stores the rows under one ``ImportBatch`` only when no row has an error; ``undo_batch`` deletes
exactly the rows of a batch, refusing when later records depend on them.

Reasons never quote a cell: cells can be names or phone numbers, and errors reach logs and
screens. The row and column are enough to find the cell.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table as SqlTable
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server import errors
from server.db.models import Base, ImportBatch, utcnow
from server.reports.cells import CellError
from server.reports.lookups import Lookups
from server.reports.sheets import SheetError, Table, normalise_cell, read_table

PREVIEW_ROWS = 50


Parser = Callable[[str, Lookups], Any]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    required: bool = True
    sensitive: bool = False  # not echoed in the preview (names, phones, amounts)


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    # Builds the ORM rows of one checked row from its values by column name; raises
    # CellError(reason, column) for checks against stored records or earlier rows.
    build: Callable[[Session, Mapping[str, Any], Lookups], list[Base]]
    # Values that must be unique in the file and not already stored: column -> exists(session, value).
    unique: Mapping[str, Callable[[Session, Any], bool]] = field(default_factory=dict)
    # Checks across the cells of one row: (column, reason) pairs.
    check_row: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    # Rows a batch created outside the batch tables (a hotline report's referral): called
    # before the batch rows are deleted, returns what to run after.
    before_undo: Callable[[Session, uuid.UUID], Callable[[], None]] | None = None

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class CheckResult:
    kind: str
    rows: int
    errors: list[RowError]
    preview: list[dict[str, str]]
    values: list[tuple[int, dict[str, Any]]] = field(default_factory=list, repr=False)
    file_sha256: str = ""

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "valid": self.valid,
            "errors": [e.as_dict() for e in self.errors],
            "preview": self.preview,
        }


def _check_header(kind: Kind, table: Table) -> list[RowError]:
    out = []
    known = set(kind.header)
    for col in kind.columns:
        if col.required and col.name not in table.header:
            out.append(RowError(1, col.name, "This column is missing from the first row."))
    for name in table.header:
        if name and name not in known:
            out.append(RowError(1, name, "This column is not part of the template."))
    return out


def _parse_row(kind: Kind, table: Table, cells: Sequence[str], row_no: int, lookups: Lookups,
               ) -> tuple[dict[str, Any], list[RowError]]:
    by_name = dict(zip(table.header, cells, strict=True))
    values: dict[str, Any] = {}
    errs: list[RowError] = []
    for col in kind.columns:
        cell = by_name.get(col.name, "")
        if not cell:
            if col.required:
                errs.append(RowError(row_no, col.name, "This cell is empty; it is required."))
            values[col.name] = None
            continue
        try:
            values[col.name] = col.parse(cell, lookups)
        except CellError as exc:
            errs.append(RowError(row_no, col.name, str(exc)))
    if not errs and kind.check_row:
        errs.extend(RowError(row_no, c, r) for c, r in kind.check_row(values))
    return values, errs


def _preview(kind: Kind, table: Table, cells: Sequence[str]) -> dict[str, str]:
    by_name = dict(zip(table.header, cells, strict=True))
    return {c.name: ("•••" if c.sensitive and by_name.get(c.name) else by_name.get(c.name, ""))
            for c in kind.columns}


def check_table(session: Session, kind: Kind, table: Table) -> CheckResult:
    errs = _check_header(kind, table)
    result = CheckResult(kind.name, len([r for r in table.rows if r]), errs, [])
    if errs:
        return result
    lookups = Lookups(session)
    seen: dict[str, dict[Any, int]] = {name: {} for name in kind.unique}
    for i, cells in enumerate(table.rows):
        row_no = i + 2
        if not cells:
            continue
        values, row_errs = _parse_row(kind, table, cells, row_no, lookups)
        for name, exists in kind.unique.items():
            value = values.get(name)
            if value is None or any(e.column == name for e in row_errs):
                continue
            if value in seen[name]:
                first = seen[name][value]
                row_errs.append(RowError(row_no, name, f"The same value is already in row {first}."))
            elif exists(session, value):
                row_errs.append(RowError(row_no, name, "This code is already in the database."))
            seen[name].setdefault(value, row_no)
        errs.extend(row_errs)
        if not row_errs:
            result.values.append((row_no, values))
        if len(result.preview) < PREVIEW_ROWS:
            result.preview.append(_preview(kind, table, cells))
    return result


def check_file(session: Session, kind: Kind, data: bytes) -> CheckResult:
    try:
        table = read_table(data)
    except SheetError as exc:
        raise errors.ImportBadFile(str(exc)) from None
    result = check_table(session, kind, table)
    result.file_sha256 = hashlib.sha256(data).hexdigest()
    return result


def run_import(session: Session, kind: Kind, data: bytes, actor: str, *, dry_run: bool
               ) -> tuple[CheckResult, ImportBatch | None]:
    """Check the file, then build its rows inside a savepoint: kept (under one new batch) only
    when every row is valid and this is not a dry run. A dry run therefore finds the same
    errors as the real import, checks against stored records included."""
    return run_checked(session, kind, check_file(session, kind, data), actor, dry_run=dry_run)


def enter_record(session: Session, kind: Kind, values: Mapping[str, str], actor: str,
                 ) -> tuple[CheckResult, ImportBatch | None]:
    """One record typed on a page: a one-row import, with the same checks (and undo)."""
    cells = tuple(normalise_cell(values.get(name, "")) for name in kind.header)
    table = Table(kind.header, (cells,))
    result = check_table(session, kind, table)
    result.file_sha256 = hashlib.sha256(repr(cells).encode("utf-8")).hexdigest()
    return run_checked(session, kind, result, actor, dry_run=False)


def run_checked(session: Session, kind: Kind, result: CheckResult, actor: str, *, dry_run: bool,
                ) -> tuple[CheckResult, ImportBatch | None]:
    if not result.values:
        return result, None
    # Rows whose cells are fine are built too, so checks against stored records report all
    # their errors in the same reply as the cell errors.
    savepoint = session.begin_nested()
    batch = ImportBatch(kind=kind.name, rows=result.rows, file_sha256=result.file_sha256, created_by=actor)
    session.add(batch)
    session.flush()
    lookups = Lookups(session)
    for row_no, values in result.values:
        try:
            built = kind.build(session, values, lookups)
        except CellError as exc:
            result.errors.append(RowError(row_no, exc.column, str(exc)))
            result.errors.sort(key=lambda e: e.row)
            continue
        for obj in built:
            if hasattr(obj, "import_batch_id"):
                obj.import_batch_id = batch.id  # type: ignore[attr-defined]
            session.add(obj)
    session.flush()
    if dry_run or result.errors:
        savepoint.rollback()
        return result, None
    savepoint.commit()
    return result, batch


# --- undo ---------------------------------------------------------------------------------------
def _batch_tables() -> list[SqlTable]:
    return [t for t in Base.metadata.sorted_tables if "import_batch_id" in t.c]


def _dependants(session: Session, table: SqlTable, batch_id: uuid.UUID) -> int:
    """Rows outside the batch that point at rows of this batch in `table`."""
    ids = select(table.c.id).where(table.c.import_batch_id == batch_id)
    total = 0
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table:
                continue
            stmt = select(func.count()).select_from(other).where(fk.parent.in_(ids))
            if "import_batch_id" in other.c:
                stmt = stmt.where(
                    (other.c.import_batch_id != batch_id) | other.c.import_batch_id.is_(None)
                )
            total += session.scalar(stmt) or 0
    return total


def undo_batch(session: Session, batch_id: uuid.UUID, actor: str, kinds: Mapping[str, Kind]) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id, with_for_update=True)
    if batch is None:
        raise errors.NotFound("There is no import with this id.")
    if batch.undone_at is not None:
        raise errors.ImportAlreadyUndone()
    tables = _batch_tables()
    for table in tables:
        if _dependants(session, table, batch_id):
            raise errors.ImportUndoBlocked()
    kind = kinds.get(batch.kind)
    after = kind.before_undo(session, batch_id) if kind and kind.before_undo else None
    # Children before parents (reverse dependency order).
    for table in reversed(tables):
        session.execute(delete(table).where(table.c.import_batch_id == batch_id))
    if after:
        after()
    batch.undone_at = utcnow()
    batch.undone_by = actor
    session.flush()
    return batch
