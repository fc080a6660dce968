"""Reading an uploaded CSV or XLSX into rows of text cells, normalised for import.

Cells come back as stripped NFC text with Khmer digits (០-៩) turned into ASCII digits, because
staff type amounts and dates with either keyboard. XLSX numbers and dates are turned into the
text an ASCII CSV would carry (``12``, ``2026-11-03``), so one parser serves both formats.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
MAX_ROWS = 20_000


class SheetError(ValueError):
    """The file cannot be read as a table (the message names no cell content)."""


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # data rows; row i is spreadsheet row i + 2


def normalise_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).translate(KHMER_DIGITS)
    return " ".join(text.split())


def _is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _csv_rows(data: bytes) -> list[list[object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError("The CSV file is not UTF-8. Save it as 'CSV UTF-8' and upload it again.") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(data: bytes) -> list[list[object]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
        raise SheetError("The XLSX file cannot be opened. Save it again from Excel and upload it.") from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[object]] = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def read_table(data: bytes) -> Table:
    """The first sheet (XLSX) or the file (CSV) as a header and data rows; blank rows dropped."""
    raw = _xlsx_rows(data) if _is_xlsx(data) else _csv_rows(data)
    cleaned = [tuple(normalise_cell(c) for c in r) for r in raw]
    if not cleaned or not any(cleaned[0]):
        raise SheetError("The file is empty: the first row must name the columns.")
    header = tuple(h.lower().replace(" ", "_") for h in cleaned[0])
    width = len(header)
    rows = []
    for r in cleaned[1:]:
        padded = (r + ("",) * width)[:width] if len(r) < width else r[:width]
        rows.append(padded if any(r) else ())
    # Trailing blank rows are formatting; blank rows in the middle keep their numbers.
    while rows and not rows[-1]:
        rows.pop()
    if len(rows) > MAX_ROWS:
        raise SheetError(f"The file has more than {MAX_ROWS} rows. Split it into smaller files.")
    return Table(header, tuple(rows))
