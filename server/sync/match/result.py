"""What comparing two records gives: bands, the result, and what the merge may do with it."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from server.sync.match.fellegi_sunter import load_params

BAND_STRONG = "strong"
BAND_POSSIBLE = "possible"
BAND_NONE = "none"

#: Weight thresholds (sums of log2 m/u), chosen on a labelled set by
#: bench/fit_linkage_weights.py and stored with the m/u parameters (fs_params.json).
POSSIBLE_WEIGHT: float = load_params()["thresholds"]["possible"]
STRONG_WEIGHT: float = load_params()["thresholds"]["strong"]
#: log2 prior odds of a match among blocked pairs (the fitted match rate).
PRIOR_WEIGHT: float = math.log2(load_params()["match_rate"] / (1 - load_params()["match_rate"]))
#: Workplace scores (hand-set weights, not fitted) are shown on this scale.
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



def match_probability(weight: float) -> float:
    """Posterior probability of a match for a pair with this summed weight."""
    return 1 / (1 + 2 ** -max(-60.0, min(60.0, PRIOR_WEIGHT + weight)))
