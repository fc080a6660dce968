"""Dates of birth and ages: birth-year bounds, and the date evidence of a pair (domain 4.4).

An exact date gives one year, an age a range widened by how the age was known, the animal
year narrows it; a Buddhist Era year is read as CE + 543/544. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

#: Tolerance in years around the birth year implied by a stated age, by how the age was known
#: (issue 12): a document is read off (its year is exact, ±1 for the birthday); a woman's own
#: age drifts by 2-3 years between intakes (she counts Khmer years, rounds, or shades it); a
#: collector's guess is worse. Bounds that overlap are compatible; the gap between the years
#: the two answers point at is graded separately (score_dates). The bounds are also what the
#: database filters candidates on and what the birth buckets of the blocking keys cover, so
#: they must hold the whole drift: a self-report 3 years off the truth (issue 12: "drifts by
#: 2-3 years") and an estimate 4 years off still overlap the true year; only disagreement
#: between reliable answers (a written date, a document) vetoes (:func:`score_dates`).
AGE_SOURCE_TOLERANCE: Mapping[str, int] = {
    "id_card": 1,
    "family_book": 1,
    "self_report": 3,
    "collector_estimate": 4,
}
_DEFAULT_TOLERANCE = 4
#: Ages read off a document: with a written date of birth, the only "reliable" birth years,
#: the only ones whose disagreement is a veto.
RELIABLE_AGE_SOURCES = frozenset({"id_card", "family_book"})
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


#: Age sources a woman gives herself or reads off a document; any other (a collector's
#: estimate, or no source recorded) is an estimate.
_STATED_AGE_SOURCES = frozenset({"self_report", *RELIABLE_AGE_SOURCES})


def birth_is_estimated(dob: date | None, age_source: str | None) -> bool:
    """An age guessed by the collector (or of unknown source), not a date or a stated age."""
    return dob is None and age_source not in _STATED_AGE_SOURCES


def age_gap_level(gap: float, *, estimated: bool) -> str:
    """The level of a gap (years) between the birth years two answers point at.

    Graded ``age_close`` ≤ 1.5 years, ``age_near`` ≤ 2.5, ``age_drift`` ≤ 3.5, ``age_apart``;
    with ``_estimated`` appended when either age is a collector's estimate. The gap means
    something else then (issue 12): on our labelled sets a 3-year gap between two ages the
    women gave themselves is mostly cousins or namesakes, and mostly the same woman when a
    collector guessed one of them, so the two families of levels have their own fitted
    weights."""
    if gap <= AGE_CLOSE_GAP:
        level = "age_close"
    elif gap <= AGE_NEAR_GAP:
        level = "age_near"
    elif gap <= AGE_DRIFT_GAP:
        level = "age_drift"
    else:
        level = "age_apart"
    return level + "_estimated" if estimated else level


def birth_is_reliable(dob: date | None, age_source: str | None) -> bool:
    """A written CE date of birth or an age read off a document."""
    if dob is not None:
        return True
    return age_source in RELIABLE_AGE_SOURCES


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


@dataclass(frozen=True)
class DateEvidence:
    codes: tuple[str, ...] = ()
    veto: str | None = None
    gap: float | None = None  # years between the birth years the two answers point at


#: Gaps (years between the middles of the two birth-year bounds) graded as evidence.
AGE_CLOSE_GAP = 1.5
AGE_NEAR_GAP = 2.5
AGE_DRIFT_GAP = 3.5


def _dob_codes(dob_a: date, dob_b: date, both_reliable: bool) -> tuple[str | None, str | None]:
    """(code, veto) for two written dates of birth."""
    da, db = ce_dates(dob_a), ce_dates(dob_b)
    if da & db:
        return "dob_equal", None
    if {s for s in (swapped_day_month(d) for d in da) if s} & db:
        return "dob_day_month_swapped", None
    if len(da) == 1 and len(db) == 1:
        # A BE date has uncertain CE days, so only two CE dates can veto, and only when
        # their years differ: the same year with another day is a typing slip.
        if dob_a.year == dob_b.year:
            return "dob_differs_same_year", None
        return None, "dob_differs" if both_reliable else None
    return None, None


def score_dates(
    dob_a: date | None,
    dob_b: date | None,
    years_a: tuple[int, int] | None,
    years_b: tuple[int, int] | None,
    *,
    reliable_a: bool = True,
    reliable_b: bool = True,
    estimated: bool = False,
) -> DateEvidence:
    """Date-of-birth evidence: equal, day/month swapped, or how far apart the birth years the
    two answers point at are (``age_close`` ≤ 1.5 years, ``age_near`` ≤ 2.5, ``age_drift`` ≤ 3.5
    (a self-reported age drifts that much between intakes, and cousins are born that far
    apart), ``age_apart``; :func:`age_gap_level`), each ``…_estimated`` when ``estimated``
    (either age is a collector's guess).

    A veto only where both sides are reliable (a written date or a document): two different
    CE years of birth, or disjoint bounds. An age a woman gave or a collector guessed that
    falls outside the other side's bounds is ``birth_years_far``: strong evidence against, but
    staff may still see the pair when everything else agrees.
    """
    both_reliable = reliable_a and reliable_b
    codes: list[str] = []
    if dob_a and dob_b:
        code, veto = _dob_codes(dob_a, dob_b, both_reliable)
        if veto:
            return DateEvidence(veto=veto)
        if code:
            codes.append(code)
    if not (years_a and years_b):
        return DateEvidence(tuple(codes))
    (alo, ahi), (blo, bhi) = years_a, years_b
    gap = abs((alo + ahi) / 2 - (blo + bhi) / 2)
    if ahi < blo or bhi < alo:
        if both_reliable:
            return DateEvidence(tuple(codes), veto="birth_years_disjoint", gap=gap)
        if not codes:
            codes.append("birth_years_far")
    elif not codes:
        codes.append(age_gap_level(gap, estimated=estimated))
    return DateEvidence(tuple(codes), gap=gap)
