"""Report periods: a month (2026-11), a quarter (2026-Q4), a year (2026) or a date range
(2026-11-01..2026-11-30). Both ends are inclusive event dates."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from server import errors

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
MAX_RANGE_DAYS = 3 * 366

# For the API document (ECMA regex): every period it matches is accepted. It shows months,
# quarters and years of 1900-2099 and date ranges within one year (any day up to the 28th);
# longer ranges (up to three years) and other days are accepted too, but a pattern cannot say
# which dates exist.
_Y = "(?:19|20)[0-9]{2}"
_MM = "(?:0[1-9]|1[0-2])"
_DD = "(?:0[1-9]|1[0-9]|2[0-8])"
PERIOD_PATTERN = (
    f"^{_Y}(?:-{_MM}|-[Qq][1-4])?$|^({_Y})-{_MM}-{_DD}\\.\\.\\1-{_MM}-{_DD}$"
)


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date

    def months(self) -> list[str]:
        """Every YYYY-MM the period touches, in order."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def parse_period(text: str | None) -> Period:
    text = (text or "").strip()
    try:
        if m := _MONTH.match(text):
            y, mo = int(m.group(1)), int(m.group(2))
            return Period(text, date(y, mo, 1), date(y, mo, monthrange(y, mo)[1]))
        if m := _QUARTER.match(text):
            y, q = int(m.group(1)), int(m.group(2))
            first, last = 3 * q - 2, 3 * q
            return Period(f"{y}-Q{q}", date(y, first, 1), date(y, last, monthrange(y, last)[1]))
        if m := _YEAR.match(text):
            y = int(m.group(1))
            return Period(text, date(y, 1, 1), date(y, 12, 31))
        if m := _RANGE.match(text):
            start, end = sorted((date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))))
            if (end - start).days <= MAX_RANGE_DAYS:  # a range given end first means the same days
                return Period(f"{start.isoformat()}..{end.isoformat()}", start, end)
    except ValueError:
        pass
    raise errors.ReportPeriodInvalid()
