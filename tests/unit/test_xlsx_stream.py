"""The streamed XLSX writer: what it writes opens in openpyxl with the same cells, Khmer,
escaped characters, numbers and dates included, a sheet per table, in several chunks."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from openpyxl import load_workbook

from server.reports import xlsx_stream


def test_workbook__sheets_cells_and_escapes_read_back() -> None:
    book = xlsx_stream.Workbook([("main", ["key", "name", "n"]), ("main-repeat", ["key", "row"])])
    rows = [([f"k{i}", "ចាន់ & <Sokha>" if i == 0 else f"name {i}", i], {1: [[f"k{i}", "1"]]} if i % 2 else {})
            for i in range(3000)]
    rows.append((["bad\x01char", None, 2.5], {}))
    rows.append((["date", date(2026, 11, 3), True], {}))
    chunks = list(book.stream(iter(rows)))
    assert len(chunks) > 2, "streamed in chunks, not built whole"
    data = b"".join(chunks)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames == ["main", "main-repeat"]
    main = list(wb["main"].iter_rows(values_only=True))
    assert main[0] == ("key", "name", "n")
    assert main[1] == ("k0", "ចាន់ & <Sokha>", 0) and main[3000] == ("k2999", "name 2999", 2999)
    assert main[3001] == ("badchar", None, 2.5) and main[3002] == ("date", "2026-11-03", True)
    rep = list(wb["main-repeat"].iter_rows(values_only=True))
    assert rep[0] == ("key", "row") and len(rep) == 1 + 1500 and rep[1] == ("k1", "1")


def test_column_letters() -> None:
    letters = xlsx_stream.column_letters(703)
    assert letters[:3] == ["A", "B", "C"] and letters[25:28] == ["Z", "AA", "AB"] and letters[702] == "AAA"
