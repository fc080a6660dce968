"""Fellegi-Sunter weights: comparison levels of a scored pair, their m/u probabilities read from
a versioned data file, and the estimation of those probabilities (u from random pairs, m and
the match rate by expectation-maximisation over blocked pairs, as Splink does).

The scorers (names, dates, phones, places) emit evidence codes; each field below takes the
first of its levels found among them, so a pair has exactly one level per field (or none,
which weighs nothing: missing is not disagreement). A level's weight is log2(m/u).
``bench/fit_linkage_weights.py`` re-estimates ``fs_params.json`` from generated data.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

PARAMS_FILE = Path(__file__).with_name("fs_params.json")

#: Field → its levels, most specific first (one per pair).
FIELDS: Mapping[str, tuple[str, ...]] = {
    "name": (
        "khmer_given_name_equal", "khmer_skeleton_equal", "latin_name_equal",
        "latin_name_coarse_equal", "latin_single_name_equal", "latin_single_name_coarse_equal",
        "latin_name_subset", "khmer_name_segmentation_variant", "translit_name_equal",
        "latin_name_similar", "translit_name_similar", "khmer_skeleton_close",
        "translit_given_equal_family_differs", "latin_name_token_shared", "latin_name_differs",
        "translit_name_differs", "khmer_given_name_differs",
    ),
    "family": (
        "khmer_family_name_equal", "latin_family_name_equal", "khmer_family_name_differs",
        "latin_family_name_differs",
    ),
    "nickname": ("nickname_equal", "nickname_differs"),
    "dates": (
        "dob_equal", "dob_day_month_swapped", "dob_differs_same_year", "age_close", "age_near",
        "age_drift", "age_apart", "age_close_estimated", "age_near_estimated",
        "age_drift_estimated", "age_apart_estimated", "birth_years_far",
    ),
    "phone": (
        "phone_own_equal", "phone_family_equal", "phone_seen_long_ago", "phone_shared_equal",
        "phone_differs",
    ),
    "origin": (
        "origin_village_equal", "origin_commune_equal", "origin_commune_equal_village_differs",
        "origin_district_equal", "origin_district_equal_commune_differs", "origin_province_equal",
        "origin_district_differs", "origin_province_differs",
    ),
    "workplace": ("workplace_equal", "workplace_differs"),
}  # fmt: skip
_FIELD_OF = {level: field for field, levels in FIELDS.items() for level in levels}
#: m and u are kept inside [floor, 1 - floor] so no level is a certainty.
_FLOOR = 1e-4
#: Levels whose weight is policy, not fitted. A number given by many records (a bar's, an
#: employer's) says nothing about who she is (domain 4.5 example 7: zero weight); the same
#: own number seen years apart may have been reissued.
POLICY_WEIGHTS: Mapping[str, float] = {"phone_shared_equal": 0.0, "phone_seen_long_ago": 1.0}
#: (more specific, less specific) levels of one field: the less specific may not weigh more.
#: Random pairs rarely share a spelling variant by chance, so a free fit would make a folded
#: Khmer spelling worth more than the same spelling; on data we never saw that is overfitting.
MONOTONE: tuple[tuple[str, str], ...] = (
    ("khmer_given_name_equal", "khmer_skeleton_equal"),
    ("latin_name_equal", "latin_name_coarse_equal"),
    ("latin_single_name_equal", "latin_single_name_coarse_equal"),
    ("latin_name_coarse_equal", "latin_name_subset"),
    ("latin_name_subset", "translit_name_equal"),
    ("latin_name_coarse_equal", "latin_name_similar"),
    ("latin_name_subset", "khmer_name_segmentation_variant"),
    ("translit_name_equal", "translit_name_similar"),
    ("translit_name_equal", "translit_given_equal_family_differs"),
    ("latin_name_similar", "translit_name_similar"),
    ("latin_name_similar", "latin_name_token_shared"),
    ("dob_equal", "dob_day_month_swapped"),
    ("age_close", "age_near"),
    ("age_near", "age_drift"),
    ("age_drift", "age_apart"),
    ("age_close_estimated", "age_near_estimated"),
    ("age_near_estimated", "age_drift_estimated"),
    ("age_drift_estimated", "age_apart_estimated"),
    ("phone_own_equal", "phone_family_equal"),
    ("khmer_family_name_equal", "latin_family_name_equal"),
    ("origin_village_equal", "origin_commune_equal"),
    ("origin_commune_equal", "origin_district_equal"),
    ("origin_commune_equal", "origin_district_equal_commune_differs"),
    ("origin_district_equal", "origin_province_equal"),
)
#: (level, floor) pairs: a level may not weigh less than its floor. Another village of the same
#: commune says at least as much as another commune of the same district; a generator that
#: never moves a woman's village inside her commune would otherwise teach the opposite.
FLOORS: tuple[tuple[str, str], ...] = (
    ("origin_commune_equal_village_differs", "origin_district_equal_commune_differs"),
)
#: Pseudo-count of the m estimate, spread as u: a level the labelled pairs rarely show moves
#: towards weight 0 (no information) rather than to a confident extreme.
M_PRIOR = 20.0


def levels_of(codes: Iterable[str]) -> dict[str, str]:
    """Field → level of one pair's evidence codes (fields with no level are left out)."""
    found: dict[str, str] = {}
    for code in codes:
        field = _FIELD_OF.get(code)
        if field is None:
            continue
        current = found.get(field)
        order = FIELDS[field]
        if current is None or order.index(code) < order.index(current):
            found[field] = code
    return found


@functools.lru_cache(maxsize=4)
def load_params(path: Path = PARAMS_FILE) -> dict:
    """The fitted parameters: ``m``/``u`` per field and level, ``thresholds``, provenance."""
    return json.loads(path.read_text(encoding="utf-8"))


def level_weights(params: Mapping | None = None) -> Mapping[str, float]:
    """Level → log2(m/u) (the Fellegi-Sunter match weight of that level); without
    ``params``, those of the data file, computed once per process."""
    return _fitted_weights() if params is None else _weights_of(params)


@functools.lru_cache(maxsize=1)
def _fitted_weights() -> Mapping[str, float]:
    return _weights_of(load_params())


def _weights_of(p: Mapping) -> dict[str, float]:
    out: dict[str, float] = {}
    for field, levels in p["m"].items():
        for level, m in levels.items():
            u = p["u"][field][level]
            out[level] = round(math.log2(_clip(m) / _clip(u)), 3)
    for better, worse in MONOTONE:
        if better in out and worse in out:
            out[worse] = min(out[worse], out[better])
    for level, floor in FLOORS:
        if level in out and floor in out:
            out[level] = max(out[level], out[floor])
    out.update({k: v for k, v in POLICY_WEIGHTS.items() if k in out})
    return out


def estimate_m_labelled(
    pairs: Iterable[Mapping[str, str]], u: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """m from pairs known to be matches, each field's counts shrunk towards its u by
    ``M_PRIOR`` pseudo-pairs (Splink's ``estimate_m_from_label_column``, smoothed)."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
    for levels in pairs:
        for field, level in levels.items():
            counts[field][level] += 1
    out: dict[str, dict[str, float]] = {}
    for f, levels in FIELDS.items():
        total = sum(counts[f][lv] for lv in levels) + M_PRIOR
        out[f] = {lv: (counts[f][lv] + M_PRIOR * u[f][lv]) / total for lv in levels}
    return out


def _clip(x: float) -> float:
    return min(1 - _FLOOR, max(_FLOOR, x))


def estimate_u(pairs: Iterable[Mapping[str, str]]) -> dict[str, dict[str, float]]:
    """u: how often each level occurs among random pairs (almost all non-matches)."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
    for levels in pairs:
        for field in FIELDS:
            counts[field][levels.get(field, "")] += 1
    return {f: _frequencies(counts[f], FIELDS[f]) for f in FIELDS}


def _frequencies(c: Counter[str], levels: Sequence[str]) -> dict[str, float]:
    # Laplace smoothing over the field's levels; the "" (missing) count is left out.
    total = sum(c[lv] for lv in levels) + len(levels)
    return {lv: (c[lv] + 1) / total for lv in levels}


def estimate_m(
    pairs: Sequence[Mapping[str, str]],
    u: Mapping[str, Mapping[str, float]],
    *,
    m_start: Mapping[str, Mapping[str, float]] | None = None,
    match_rate: float = 0.1,
    iterations: int = 50,
) -> tuple[dict[str, dict[str, float]], float]:
    """EM for m and the match rate over blocked pairs, u held fixed (Splink's procedure).

    E-step: each pair's probability of being a match under the current m, u and rate;
    M-step: m of a level = expected matches showing it / expected matches with the field
    present. Missing fields contribute nothing to either step."""
    m = {f: dict(m_start[f]) if m_start else _frequencies(Counter(), FIELDS[f]) for f in FIELDS}
    rate = match_rate
    for _ in range(iterations):
        weights: list[float] = []
        for levels in pairs:
            lm = math.log(rate) - math.log(1 - rate)
            for field, level in levels.items():
                lm += math.log(_clip(m[field][level])) - math.log(_clip(u[field][level]))
            weights.append(1 / (1 + math.exp(-max(-50.0, min(50.0, lm)))))
        rate = min(0.99, max(1e-4, sum(weights) / len(weights)))
        counts: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
        for w, levels in zip(weights, pairs, strict=True):
            for field, level in levels.items():
                counts[field][level] += w
        m = {f: _soft_frequencies(counts[f], FIELDS[f]) for f in FIELDS}
    return m, rate


def _soft_frequencies(c: Counter[str], levels: Sequence[str]) -> dict[str, float]:
    total = sum(c[lv] for lv in levels) + 0.5 * len(levels)
    return {lv: (c[lv] + 0.5) / total for lv in levels}
