"""Cell parsers for imports and staff entry: each turns normalised text into a value or raises
CellError with a reason that never quotes the cell."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from server.reports.lookups import Lookups


class CellError(ValueError):
    """A cell that cannot be used; the message is the reason shown to staff. `column` is set
    by checks that span a row (which column to look at)."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.column = column


# Member codes end in a Crockford check symbol, which may be one of * ~ $ = (domain.md 2.2).
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.*~$=-]{0,31}$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_PHONE = re.compile(r"^(?:\+?855|0)([1-9][0-9]{7,8})$")


def text(max_len: int = 200) -> Callable[[str, Lookups], str]:
    def parse(cell: str, _lk: Lookups) -> str:
        if len(cell) > max_len:
            raise CellError(f"Longer than {max_len} characters.")
        return cell

    return parse


def code(cell: str, _lk: Lookups) -> str:
    if not _CODE.match(cell):
        raise CellError("A code is 1-32 letters, digits, dots, dashes or underscores.")
    return cell.upper()


def digits(n: int) -> Callable[[str, Lookups], str]:
    def parse(cell: str, _lk: Lookups) -> str:
        if not (cell.isascii() and cell.isdigit() and len(cell) == n):
            raise CellError(f"Expected a {n}-digit gazetteer code.")
        return cell

    return parse


def day(cell: str, _lk: Lookups) -> date:
    """ISO (2026-11-03) or day/month/year (3/11/2026), the two ways staff write dates."""
    try:
        if m := _DMY.match(cell):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(cell[:10])
    except ValueError:
        raise CellError("Not a date: write it as 2026-11-03 or 3/11/2026.") from None


def count(cell: str, _lk: Lookups) -> int:
    if not (cell.isascii() and cell.isdigit()) or len(cell) > 7:
        raise CellError("Expected a whole number, 0 or more.")
    return int(cell)


def amount(cell: str, _lk: Lookups) -> Decimal:
    try:
        value = Decimal(cell.replace(",", ""))
    except InvalidOperation:
        raise CellError("Expected an amount such as 20000 or 2.50.") from None
    if not value.is_finite() or value <= 0 or value >= Decimal("1e12"):
        raise CellError("The amount must be more than 0.")
    return value.quantize(Decimal("0.01"))


def phone(cell: str, _lk: Lookups) -> str:
    compact = re.sub(r"[\s()-]", "", cell)
    m = _PHONE.match(compact)
    if not m:
        raise CellError("Not a Cambodian phone number (9 or 10 digits starting with 0).")
    return "+855" + m.group(1)


def choice(cls: type[enum.Enum]) -> Callable[[str, Lookups], Any]:
    values = [str(m.value) for m in cls]

    def parse(cell: str, _lk: Lookups) -> Any:
        key = cell.strip().lower().replace(" ", "_") if cls.__name__ != "Currency" else cell.upper()
        try:
            return cls(key)
        except ValueError:
            raise CellError("Must be one of: " + ", ".join(values) + ".") from None

    parse.choices = tuple(values)  # type: ignore[attr-defined]  # for the entry page's <select>
    return parse


def ref(kind: str, what: str) -> Callable[[str, Lookups], uuid.UUID]:
    """A code that must name a stored record (member, session, book...)."""

    def parse(cell: str, lk: Lookups) -> uuid.UUID:
        found = getattr(lk, kind)(code(cell, lk))
        if found is None:
            raise CellError(f"No {what} has this code.")
        return found

    return parse
