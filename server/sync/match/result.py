"""What comparing two records gives: bands, the result, and what the merge may do with it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

BAND_STRONG = "strong"
BAND_POSSIBLE = "possible"
BAND_NONE = "none"

#: Weight thresholds. Weights are additive, log-odds-like; see score_members.
POSSIBLE_WEIGHT = 3.0
STRONG_WEIGHT = 5.5
SCORE_SCALE = 8.0


@dataclass(frozen=True)
class MatchResult:
    """Outcome of comparing two records.

    ``band`` already applies vetoes and caps. ``raw_band`` is the band the
    weights alone give, so a child/adult pair can still be linked for a
    caseworker. ``cap`` names why a pair can be "possible" at most.
    """

    score: float
    band: str
    evidence: tuple[str, ...]
    veto: str | None = None
    cap: str | None = None
    raw_band: str = BAND_NONE
    weight: float = 0.0


class Decision(enum.StrEnum):
    AUTO_LINK = "auto_link"  # identical member_code only; still logged
    REVIEW = "review"  # candidate pair for staff
    CASE_LINK = "case_link"  # child case vs adult member: link, never merge
    NONE = "none"


def band_of(weight: float) -> str:
    if weight >= STRONG_WEIGHT:
        return BAND_STRONG
    if weight >= POSSIBLE_WEIGHT:
        return BAND_POSSIBLE
    return BAND_NONE

