"""The shape of the indicator report: indicators, figures, breakdowns, and the suppression rule.

A figure is one cell: what is counted (`label`), which slice (`breakdown`: ``total`` or
``dimension:value``, e.g. ``report_group:karaoke``, ``commune:180101``) and its value. The
external version shows every count under 5, and every child-protection figure, as "<5".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SUPPRESSED = "<5"
SMALL_CELL = 5

#: domain.md 5: report groups from the sector recorded on the event.
SECTOR_GROUP: dict[str, str] = {
    "brothel_based": "prostitution",
    "freelance_sex_work": "prostitution",
    "karaoke": "karaoke",
}
REPORT_GROUPS = ("prostitution", "karaoke", "other")


def report_group(sector: str | None) -> str:
    return SECTOR_GROUP.get(sector or "", "other")


@dataclass(frozen=True)
class Figure:
    label: str
    breakdown: str
    value: int | float | None
    # Counts are suppressed under 5; a rate or median is suppressed when its base is.
    base: int | None = None
    child_protection: bool = False

    def shown(self, external: bool, child_visible: bool) -> int | float | str | None:
        if self.child_protection and (external or not child_visible):
            return SUPPRESSED
        if not external:
            return self.value
        small = self.base if self.base is not None else self.value
        if isinstance(small, int | float) and small < SMALL_CELL:
            return SUPPRESSED
        return self.value


@dataclass
class Indicator:
    number: int
    figures: list[Figure] = field(default_factory=list)

    def add(self, label: str, breakdown: str, value: int | float | None, **kw: Any) -> None:
        self.figures.append(Figure(label, breakdown, value, **kw))

    def breakdown(self, label: str, by: Mapping[str, Mapping[str, int]], total: int, **kw: Any) -> None:
        """A total and precomputed counts per dimension: ``{"commune": {"180101": 3}}``."""
        self.add(label, "total", total, **kw)
        for dim, counts in by.items():
            for value in sorted(set(counts) | set(_KNOWN.get(dim, ()))):
                self.add(label, f"{dim}:{value}", counts.get(value, 0), **kw)


# Slices shown even when nothing was counted in them (a 0 is information).
_KNOWN: dict[str, tuple[str, ...]] = {
    "report_group": REPORT_GROUPS,
    "target_group": ("karaoke_workers", "women_in_prostitution"),
}


def rate(part: int, whole: int) -> float | None:
    """A share in percent with one decimal, or None when there is no base."""
    return round(100.0 * part / whole, 1) if whole else None


def tally(rows: Iterable[Any], key: Callable[[Any], str | None]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for row in rows:
        k = key(row)
        out[k if k is not None else "unknown"] += 1
    return dict(out)
