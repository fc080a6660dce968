"""Exports of submissions per form: CSV (UTF-8 with a BOM, so Excel reads Khmer) or XLSX, the
main table and one table per repeat, joined by ``submission_key`` (the root instanceID).

Rows are streamed: submissions are read in batches (``yield_per``) and each is flattened from its
current version's XML as it comes, so memory stays flat whatever the size. XLSX uses openpyxl's
write-only mode, which spools rows to temporary files; the finished file is read back in chunks.

Who sees what (server.accounts.access): roles without personal-data access (me, admin without a
stated reason) get no free text, names, phones, places of origin, dates of birth, locations or
files; submissions behind a child-protection referral exist only for the child_protection role
(the submission list's own filter, reused here).
"""

from __future__ import annotations

import csv
import html
import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import errors
from server.casework import listing
from server.casework.answers import FormSpec, form_spec
from server.db.models import Collector, Form, StaffRole, Submission, SubmissionVersion
from server.sync.parse import safe_parser

BATCH = 500
CHUNK = 64 * 1024
BOM = "\ufeff"
# Personal data by name, beyond free-text types: dates of birth and places of origin.
PII_FIELDS = frozenset({"dob", "origin_province", "origin_district", "origin_commune", "origin_village",
                        "origin_text", "phone", "phone_owner"})
PII_TYPES = frozenset({"string", "binary", "geopoint", "geotrace", "geoshape", "barcode"})
KEY_COLUMNS = ("submission_key", "instance_id", "received_at", "submitted_by", "review_state")
LABELS = ("codes", "en", "km")


@dataclass
class Table:
    name: str
    columns: list[str] = field(default_factory=list)
    # column -> {code: label} for select questions (labels mode only)
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    multi: set[str] = field(default_factory=set)


@dataclass
class Layout:
    main: Table
    repeats: dict[str, Table]  # repeat element name -> its table
    # Compiled per export: repeat patterns, and column names with their bytes.
    blocks: dict[str, re.Pattern[bytes]] = field(default_factory=dict)
    keys: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)

    @property
    def tables(self) -> list[Table]:
        return [self.main, *self.repeats.values()]


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def layout(spec: FormSpec, form_id: str, *, with_pii: bool, labels: str) -> Layout:
    """The tables and columns of a form's export, in form order."""
    root = "/" + _local(spec.template)
    main = Table(form_id, list(KEY_COLUMNS))
    repeats: dict[str, Table] = {}

    def walk(el: etree._Element, path: str, table: Table) -> None:
        for child in el:
            name = _local(child)
            if not name or (path == root and name == "meta"):
                continue
            cpath = f"{path}/{name}"
            control = spec.controls.get(cpath)
            if control is not None and control.tag == "repeat":
                if name not in repeats:
                    repeats[name] = Table(f"{form_id}-{name}", ["submission_key", "row"])
                    walk(child, cpath, repeats[name])
                continue
            if len(child):
                walk(child, cpath, table)
                continue
            type_ = spec.types.get(cpath, "string")
            if cpath in spec.readonly_notes and control is not None:
                continue
            if control is not None and control.tag in ("select", "select1"):
                type_ = control.tag
            if not with_pii and (type_ in PII_TYPES or name in PII_FIELDS):
                continue
            if name in table.columns:
                continue
            table.columns.append(name)
            if labels != "codes" and control is not None and control.choices:
                table.choices[name] = control.choices.get(labels) or next(iter(control.choices.values()))
                if control.tag == "select":
                    table.multi.add(name)

    walk(spec.template, root, main)
    return Layout(main, repeats)


def _value(table: Table, name: str, text: str) -> str:
    choices = table.choices.get(name)
    if not choices or not text:
        return text
    if name in table.multi:
        return ", ".join(choices.get(c, c) for c in text.split())
    return choices.get(text, text)


# Collect's instances are plain elements: a leaf is <name>text</name> (or <name/> when empty).
# Reading the leaves with one regular expression is several times faster than building the
# tree; CDATA or a DOCTYPE (never sent by Collect) go through lxml. Prefixed elements (orx:meta)
# are not data columns and do not match.
_LEAF = re.compile(rb"<([A-Za-z_][\w.-]*)(?:\s[^<>]*)?>([^<]*)</\1>")


def _repeat_block(name: str) -> re.Pattern[bytes]:
    tag = re.escape(name.encode())
    return re.compile(rb"<" + tag + rb"(?:\s[^<>]*)?>(.*?)</" + tag + rb">", re.S)


def _pick(found: dict[bytes, bytes], table: Table, columns: list[tuple[str, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    choices = table.choices
    for name, key in columns:
        raw = found.get(key)
        if not raw:
            continue
        value = raw.decode("utf-8").strip()
        if "&" in value:
            value = html.unescape(value)
        if value:
            out[name] = _value(table, name, value) if name in choices else value
    return out


def _keys(names: list[str]) -> list[tuple[str, bytes]]:
    return [(n, n.encode()) for n in names]


def flatten(xml: bytes, lay: Layout) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """One submission's main row and repeat rows (values by column name)."""
    if b"<![CDATA[" in xml or b"<!DOCTYPE" in xml:
        return flatten_tree(xml, lay)
    reps: dict[str, list[dict[str, str]]] = {}
    for rname, rtable in lay.repeats.items():
        block = lay.blocks.setdefault(rname, _repeat_block(rname))
        columns = lay.keys.setdefault(rname, _keys(rtable.columns[2:]))
        reps[rname] = [_pick(dict(_LEAF.findall(inner)), rtable, columns) for inner in block.findall(xml)]
        xml = block.sub(b"", xml)
    columns = lay.keys.setdefault("", _keys(lay.main.columns[len(KEY_COLUMNS):]))
    return _pick(dict(_LEAF.findall(xml)), lay.main, columns), reps


def flatten_tree(xml: bytes, lay: Layout) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """One submission's main row and repeat rows (values by column name), read with lxml.

    Field names are unique in a form (pyxform enforces it), so a leaf is found by its tag alone
    and lxml filters the tags in C (``iter(*tags)``): the hot loop touches only the columns."""
    root = etree.fromstring(xml, parser=safe_parser())
    tag = root.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    main: dict[str, str] = {}
    table = lay.main
    wanted = table.columns[len(KEY_COLUMNS):]
    for el in root.iter(*(ns + n for n in wanted)):
        if el.text and len(el) == 0:
            name = el.tag[len(ns):]
            main[name] = _value(table, name, el.text.strip())
    reps: dict[str, list[dict[str, str]]] = {}
    for rname, rtable in lay.repeats.items():
        rows = reps[rname] = []
        fields = [ns + n for n in rtable.columns[2:]]
        for item in root.iter(ns + rname):
            row: dict[str, str] = {}
            for el in item.iter(*fields):
                if el.text:
                    name = el.tag[len(ns):]
                    row[name] = _value(rtable, name, el.text.strip())
            rows.append(row)
    return main, reps


@dataclass(frozen=True)
class ExportRequest:
    form_id: str
    role: StaffRole
    with_pii: bool
    labels: str = "codes"
    filters: listing.SubmissionFilter = field(default_factory=listing.SubmissionFilter)


def export_layout(session: Session, req: ExportRequest) -> Layout:
    form = session.scalar(select(Form).where(Form.xml_form_id == req.form_id))
    if form is None or form.current_version is None:
        raise errors.NotFound("There is no form with this id.")
    if req.labels not in LABELS:
        raise errors.RequestInvalid("labels is codes, en or km.")
    return layout(form_spec(form.current_version.xml), req.form_id, with_pii=req.with_pii, labels=req.labels)


Rows = tuple[list[str], dict[str, list[list[str]]]]


def _rows(session: Session, req: ExportRequest, lay: Layout) -> Iterator[Rows]:
    """Per submission: the main row and, per repeat table, its rows, as lists of cells."""
    filters = listing.SubmissionFilter(**{**req.filters.__dict__, "form_id": req.form_id})
    ids = listing.filtered(req.role, filters).with_only_columns(Submission.id)
    stmt = (
        select(Submission.root_instance_id, Submission.review_state, SubmissionVersion.instance_id,
               SubmissionVersion.xml, SubmissionVersion.encrypted, SubmissionVersion.received_at,
               Collector.name)
        .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id)
              & SubmissionVersion.is_current.is_(True))
        .join(Collector, Collector.id == SubmissionVersion.submitted_by_id)
        .where(Submission.id.in_(ids))
        .order_by(Submission.created_at, Submission.id)
        .execution_options(yield_per=BATCH)
    )
    main_cols = lay.main.columns[len(KEY_COLUMNS):]
    for key, review, iid, xml, encrypted, received, account in session.execute(stmt):
        values, reps = ({}, {}) if encrypted else flatten(xml, lay)
        head = [key, iid, received.isoformat() if received else "", account, str(review)]
        row = head + [values.get(c, "") for c in main_cols]
        rep_rows = {
            name: [[key, str(i)] + [r.get(c, "") for c in lay.repeats[name].columns[2:]]
                   for i, r in enumerate(rows, 1)]
            for name, rows in reps.items()
        }
        yield row, rep_rows


def check_table(lay: Layout, table: str | None) -> None:
    if table is not None and table not in lay.repeats:
        raise errors.NotFound("This form has no repeat with this name.")


def stream_csv(session: Session, req: ExportRequest, lay: Layout, table: str | None = None,
               ) -> Iterator[bytes]:
    """One table (the main one, or the repeat named `table`) as CSV, in chunks. Check the
    request with ``export_layout`` and ``check_table`` first: errors cannot follow a 200."""
    check_table(lay, table)
    target = lay.repeats[table] if table else lay.main
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow(target.columns)
    for row, reps in _rows(session, req, lay):
        if table is None:
            writer.writerow(row)
        else:
            writer.writerows(reps.get(table, ()))
        if buf.tell() >= CHUNK:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def stream_xlsx(session: Session, req: ExportRequest, lay: Layout, table: str | None = None,
                ) -> Iterator[bytes]:
    """All tables as sheets of one workbook, or only the repeat named `table` (write-only: rows
    spool to disk, not memory)."""
    check_table(lay, table)
    book = Workbook(write_only=True)
    sheets = {}
    for t in [lay.repeats[table]] if table else lay.tables:
        sheet = book.create_sheet(t.name[-31:])  # Excel's limit on sheet names
        sheet.append(t.columns)
        sheets[t.name] = sheet
    for row, reps in _rows(session, req, lay):
        if table is None:
            sheets[lay.main.name].append(row)
        for name, rows in reps.items():
            target = sheets.get(lay.repeats[name].name)
            for r in rows if target is not None else ():
                target.append(r)
    with tempfile.TemporaryFile() as tmp:
        book.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(CHUNK):
            yield chunk


def stream_table_csv(header: list[str], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    """Any table as CSV with a BOM, in chunks."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buf.tell() >= CHUNK:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def stream_table_xlsx(name: str, header: list[str], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    """Any table as a one-sheet XLSX (write-only), read back in chunks."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(name[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    with tempfile.TemporaryFile() as tmp:
        book.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(CHUNK):
            yield chunk
