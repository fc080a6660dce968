"""Exports of submissions per form: CSV (UTF-8 with a BOM, so Excel reads Khmer) or XLSX, the
main table and one table per repeat, joined by ``submission_key`` (the root instanceID).

Rows are streamed: submissions are read in batches (``yield_per``, a server-side cursor on
PostgreSQL) and each is read from its current version's XML as it comes, so memory stays flat
whatever the size. XLSX is written by xlsx_stream, chunk by chunk as the rows come.

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
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server import errors
from server.casework import listing
from server.casework.answers import FormSpec, form_spec
from server.db.models import Collector, Form, StaffRole, Submission, SubmissionVersion
from server.db.session import BINARY_RESULTS_OPTION
from server.reports import xlsx_stream
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
    # Compiled once per export ("" is the main table): column positions by tag, the columns
    # shown with labels, and each repeat's pattern.
    index: dict[str, dict[str, int]] = field(default_factory=dict)
    labelled: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    blocks: dict[str, re.Pattern[str]] = field(default_factory=dict)
    form_pk: int | None = None  # forms.id, when known: the export's query filters on it directly

    def __post_init__(self) -> None:
        for key, table, skip in (("", self.main, len(KEY_COLUMNS)),
                                 *((n, t, 2) for n, t in self.repeats.items())):
            answers = table.columns[skip:]
            self.index[key] = {c: i for i, c in enumerate(answers)}
            self.labelled[key] = [(i, c) for i, c in enumerate(answers) if c in table.choices]
            if key:
                self.blocks[key] = _repeat_block(key)

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
# Splitting the text at every "</" leaves, before each closing tag, "...<name>text": the last "<"
# of a piece opens the leaf it closes. That is a C-level split and one dict look-up per element,
# several times faster than a regular expression or a tree. Field names are unique in a form
# (pyxform enforces it), so a leaf is found by its tag wherever it sits; CDATA or a DOCTYPE
# (never sent by Collect) go through lxml. Prefixed elements (orx:meta) are not data columns.
def _fill(text: str, index: dict[str, int], row: list[str]) -> None:
    """Put each non-empty leaf whose tag is in `index` at its position in `row`."""
    get = index.get
    for piece in text.split("</"):
        _, lt, leaf = piece.rpartition("<")
        if not lt:  # only the name of the element closed before: a group's closing tag
            continue
        tag, _, value = leaf.partition(">")
        i = get(tag)
        if i is None:
            if " " not in tag:
                continue
            i = get(tag.split(None, 1)[0])  # a leaf with attributes
            if i is None:
                continue
        value = value.strip()
        if value:
            row[i] = html.unescape(value) if "&" in value else value


def _repeat_block(name: str) -> re.Pattern[str]:
    tag = re.escape(name)
    return re.compile(r"<" + tag + r"(?:\s[^<>]*)?>(.*?)</" + tag + r">", re.S)


def _labelled(row: list[str], table: Table, labels: list[tuple[int, str]]) -> list[str]:
    for i, name in labels:
        if row[i]:
            row[i] = _value(table, name, row[i])
    return row


def main_values(text: str, lay: Layout) -> list[str]:
    """The main table's answer cells (after the key columns) of one instance, as text."""
    row = [""] * (len(lay.main.columns) - len(KEY_COLUMNS))
    _fill(text, lay.index[""], row)
    return _labelled(row, lay.main, lay.labelled[""]) if lay.labelled[""] else row


def repeat_values(text: str, lay: Layout, name: str) -> list[list[str]]:
    """The answer cells (after submission_key and row) of each instance of repeat `name`."""
    table, index, labels = lay.repeats[name], lay.index[name], lay.labelled[name]
    out = []
    opening = "<" + name + ">"
    if opening not in text and "<" + name + " " not in text:
        return out
    # Collect writes repeat instances without attributes: split at the opening tag (C speed);
    # an instance with attributes goes through the pattern.
    if "<" + name + " " in text:
        blocks = lay.blocks[name].findall(text)
    else:
        closing = "</" + name + ">"
        blocks = [piece.partition(closing)[0] for piece in text.split(opening)[1:]]
    for inner in blocks:
        row = [""] * (len(table.columns) - 2)
        _fill(inner, index, row)
        out.append(_labelled(row, table, labels) if labels else row)
    return out


def _needs_tree(xml: bytes) -> bool:
    """CDATA, a DOCTYPE or a comment (all "<!..."): read with lxml, not split."""
    return b"<!" in xml


def flatten(xml: bytes, lay: Layout) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """One submission's main row and repeat rows (non-empty values by column name)."""
    if _needs_tree(xml):
        return flatten_tree(xml, lay)
    text = xml.decode("utf-8")
    main_cols = lay.main.columns[len(KEY_COLUMNS):]
    main = {c: v for c, v in zip(main_cols, main_values(text, lay), strict=True) if v}
    reps = {
        name: [{c: v for c, v in zip(t.columns[2:], row, strict=True) if v}
               for row in repeat_values(text, lay, name)]
        for name, t in lay.repeats.items()
    }
    return main, reps


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
    lay = layout(form_spec(form.current_version.xml), req.form_id, with_pii=req.with_pii, labels=req.labels)
    lay.form_pk = form.id
    return lay


Rows = tuple[list[str] | None, dict[str, list[list[str]]]]


def _rows(session: Session, req: ExportRequest, lay: Layout, *, main: bool = True,
          repeats: tuple[str, ...] | None = None) -> Iterator[Rows]:
    """Per submission: the main row (when `main`) and the rows of the repeats named (all by
    default), as lists of cells. One query, streamed in batches (a server-side cursor on
    PostgreSQL); only the tables asked for are read from the XML."""
    wanted = tuple(lay.repeats) if repeats is None else repeats
    stmt = (
        _visible(req, lay)
        .with_only_columns(Submission.root_instance_id, Submission.review_state,
                           SubmissionVersion.instance_id, SubmissionVersion.xml,
                           SubmissionVersion.encrypted, SubmissionVersion.received_at, Collector.name)
        .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id)
              & SubmissionVersion.is_current.is_(True))
        .join(Collector, Collector.id == SubmissionVersion.submitted_by_id)
        .order_by(Submission.created_at, Submission.id)
        # Binary rows on PostgreSQL: the XML comes as its bytes, not hex digits to decode.
        .execution_options(yield_per=BATCH, **{BINARY_RESULTS_OPTION: True})
    )
    empty = [""] * (len(lay.main.columns) - len(KEY_COLUMNS))
    for key, review, iid, xml, encrypted, received, account in session.connection().execute(stmt):
        row: list[str] | None = None
        reps: dict[str, list[list[str]]] = {}
        if encrypted or _needs_tree(xml):
            values, tree_reps = ({}, {}) if encrypted else flatten_tree(xml, lay)
            if main:
                row = [values.get(c, "") for c in lay.main.columns[len(KEY_COLUMNS):]]
            for name in wanted:
                cols = lay.repeats[name].columns[2:]
                reps[name] = [[r.get(c, "") for c in cols] for r in tree_reps.get(name, ())]
        else:
            text = xml.decode("utf-8")
            if main:
                row = main_values(text, lay)
            for name in wanted:
                reps[name] = repeat_values(text, lay, name)
        if row is not None:
            row = [key, iid, received.isoformat() if received else "", account, str(review), *(row or empty)]
        yield row, {name: [[key, str(i), *r] for i, r in enumerate(rows, 1)]
                    for name, rows in reps.items() if rows}


def _visible(req: ExportRequest, lay: Layout) -> Select[tuple[Submission]]:
    """The submissions of the export: the request's filters, as the role may see them. The
    form is matched on its key when known: with an IN over a sub-select of the form's
    submissions, PostgreSQL hash-aggregated their ids and looked every submission up again."""
    if lay.form_pk is None:
        return listing.filtered(req.role, replace(req.filters, form_id=req.form_id))
    return (listing.filtered(req.role, replace(req.filters, form_id=None))
            .where(Submission.form_id == lay.form_pk))


def check_table(lay: Layout, table: str | None) -> None:
    if table is not None and table not in lay.repeats:
        raise errors.NotFound("This form has no repeat with this name.")


def stream_csv(session: Session, req: ExportRequest, lay: Layout, table: str | None = None,
               ) -> Iterator[bytes]:
    """One table (the main one, or the repeat named `table`) as CSV, in chunks. Check the
    request with ``export_layout`` and ``check_table`` first: errors cannot follow a 200."""
    check_table(lay, table)
    target = lay.repeats[table] if table else lay.main
    if table is None:
        rows = (row for row, _ in _rows(session, req, lay, repeats=()) if row is not None)
    else:
        rows = (r for _, reps in _rows(session, req, lay, main=False, repeats=(table,))
                for r in reps.get(table, ()))
    return stream_table_csv(target.columns, rows)


def stream_xlsx(session: Session, req: ExportRequest, lay: Layout, table: str | None = None,
                ) -> Iterator[bytes]:
    """All tables as sheets of one workbook, or only the repeat named `table`, streamed
    (xlsx_stream: the first sheet goes out as it is written, the other sheets are spooled to
    disk, nothing is held in memory)."""
    check_table(lay, table)
    if table is not None:
        target = lay.repeats[table]
        only = ((r, {}) for _, reps in _rows(session, req, lay, main=False, repeats=(table,))
                for r in reps.get(table, ()))
        return xlsx_stream.Workbook([(target.name, target.columns)]).stream(only)
    book = xlsx_stream.Workbook([(t.name, t.columns) for t in lay.tables])
    sheet_of = {name: k for k, name in enumerate(lay.repeats, 1)}
    rows = ((row, {sheet_of[name]: rs for name, rs in reps.items()})
            for row, reps in _rows(session, req, lay))
    return book.stream(rows)


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
    """Any table as a one-sheet XLSX, streamed."""
    return xlsx_stream.Workbook([(name[:31], header)]).stream((row, {}) for row in rows)
