"""Dates of birth and ages: birth-year bounds, and the date evidence of a pair (domain 4.4).

An exact date gives one year, an age a range widened by how the age was known, the animal
year narrows it; a Buddhist Era year is read as CE + 543/544. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

#: Tolerance in years around the birth year implied by a stated age.
AGE_SOURCE_TOLERANCE: Mapping[str, int] = {
    "id_card": 1,
    "family_book": 1,
    "self_report": 1,
    "collector_estimate": 3,
}
_DEFAULT_TOLERANCE = 3
_ZODIAC = ("rat", "ox", "tiger", "rabbit", "dragon", "snake",
           "horse", "goat", "monkey", "rooster", "dog", "pig")  # fmt: skip
BE_THRESHOLD = 2400


def _zodiac_of_year(year: int) -> str:
    # 2008 was a rat year.
    return _ZODIAC[(year - 2008) % 12]


def birth_year_bounds(
    dob: date | None,
    age: int | None,
    age_source: str | None,
    on_date: date,
    zodiac: str | None = None,
) -> tuple[int, int] | None:
    """Inclusive (min, max) birth year, or None when nothing was said.

    An exact date gives ±0, except a Buddhist Era year (> 2400), which is CE
    + 543 or + 544 depending on the time of year. An age gives the two years
    its birthday allows, widened by the tolerance of its source. The animal
    year narrows the range; it changes at Khmer New Year (mid-April), so a
    woman born early in year Y may carry the animal of Y-1.
    """
    if dob is not None:
        if dob.year > BE_THRESHOLD:
            return dob.year - 544, dob.year - 543
        return dob.year, dob.year
    if age is None:
        return None
    tol = AGE_SOURCE_TOLERANCE.get(age_source or "", _DEFAULT_TOLERANCE)
    lo, hi = on_date.year - age - 1 - tol, on_date.year - age + tol
    if zodiac in _ZODIAC:
        fits = [y for y in range(lo, hi + 1)
                if zodiac in (_zodiac_of_year(y), _zodiac_of_year(y - 1))]  # fmt: skip
        if fits:
            lo, hi = min(fits), max(fits)
    return lo, hi


def swapped_day_month(d: date) -> date | None:
    try:
        return date(d.year, d.day, d.month)
    except ValueError:
        return None


def ce_dates(d: date) -> set[date]:
    """CE dates a written date may mean (BE is CE + 543 or + 544)."""
    if d.year <= BE_THRESHOLD:
        return {d}
    out: set[date] = set()
    for offset in (543, 544):
        try:
            out.add(d.replace(year=d.year - offset))
        except ValueError:  # 29 February
            out.add(d.replace(year=d.year - offset, day=28))
    return out


#: Both bounds at most this wide: an overlap is real evidence, not just "about the same age".
_TIGHT_BOUNDS = 4


@dataclass(frozen=True)
class DateEvidence:
    codes: tuple[str, ...] = ()
    veto: str | None = None


def score_dates(
    dob_a: date | None,
    dob_b: date | None,
    years_a: tuple[int, int] | None,
    years_b: tuple[int, int] | None,
) -> DateEvidence:
    """Date-of-birth evidence: equal, day/month swapped, or a veto when two CE dates differ or
    the birth-year bounds are disjoint; otherwise how the bounds overlap."""
    codes: list[str] = []
    if dob_a and dob_b:
        da, db = ce_dates(dob_a), ce_dates(dob_b)
        if da & db:
            codes.append("dob_equal")
        elif {s for s in (swapped_day_month(d) for d in da) if s} & db:
            codes.append("dob_day_month_swapped")
        elif len(da) == 1 and len(db) == 1:
            # A BE date has uncertain CE days, so only two CE dates can veto.
            return DateEvidence(veto="dob_differs")
    if years_a and years_b:
        (alo, ahi), (blo, bhi) = years_a, years_b
        if ahi < blo or bhi < alo:
            return DateEvidence(tuple(codes), veto="birth_years_disjoint")
        if not codes:
            tight = ahi - alo <= _TIGHT_BOUNDS and bhi - blo <= _TIGHT_BOUNDS
            codes.append("birth_years_overlap" if tight else "birth_years_overlap_wide")
    return DateEvidence(tuple(codes))
