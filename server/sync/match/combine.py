"""The combiner: one member pair's evidence from the four scorers (names, dates, phones,
places), weighed into a band, and what the merge may do with it (domain 4.4).

Person merges are never automatic. The only automatic link is an identical ``member_code``
(the same card); everything else is a review candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from server.sync.match.dates import score_dates
from server.sync.match.keys import year_buckets
from server.sync.match.names import score_names
from server.sync.match.phones import score_phones
from server.sync.match.places import score_places
from server.sync.match.records import MemberRecord
from server.sync.match.result import (
    BAND_NONE,
    BAND_POSSIBLE,
    BAND_STRONG,
    SCORE_SCALE,
    Decision,
    MatchResult,
    band_of,
)

#: Evidence weights, kept as data so that staff-labelled pairs can re-tune
#: them without touching the logic.
W: Mapping[str, float] = {
    "khmer_given_name_equal": 2.5,
    "khmer_family_name_equal": 1.5,
    "khmer_family_name_differs": -2.0,
    "khmer_given_name_differs": -4.0,
    "latin_name_equal": 3.5,
    "latin_single_name_equal": 2.5,
    "latin_name_coarse_equal": 3.0,
    "latin_single_name_coarse_equal": 2.0,
    "latin_name_subset": 1.5,
    "latin_name_similar": 1.5,
    "latin_name_token_shared": 0.0,  # what sisters share: the family name
    "latin_name_differs": -2.0,
    "translit_name_equal": 2.0,
    "translit_name_similar": 1.0,
    "nickname_equal": 1.0,
    "dob_equal": 3.0,
    "dob_day_month_swapped": 2.0,
    "birth_years_overlap": 1.0,
    "birth_years_overlap_wide": 0.5,
    "phone_own_equal": 4.0,
    "phone_family_equal": 2.0,
    "origin_village_equal": 3.0,
    "origin_commune_equal": 2.0,
    "origin_commune_equal_village_differs": 1.0,
    "origin_district_equal": 0.5,
    "origin_province_equal": 0.0,
    "origin_district_differs": -1.5,
    "origin_province_differs": -2.0,
    "workplace_equal": 0.5,
}
#: Cap of the term-frequency penalty for a name shared by many records.
COMMON_NAME_MAX_PENALTY = 2.5
_NAME_CODES = frozenset({"khmer", "latin", "translit", "nickname"})
_PHONE_STALE_DAYS = 730  # prepaid numbers get reissued
_LATIN_SIMILAR = 88.0
_TRANSLIT_SIMILAR = 80.0
_TIGHT_BOUNDS = 4


def _name_key_count(
    a: MemberRecord, b: MemberRecord, ev: Sequence[str], key_counts: Mapping[str, int]
) -> int:
    """How many stored records share the name key that made this pair agree."""
    ka, kb = a.keys, b.keys
    buckets = set(year_buckets(a)) & set(year_buckets(b))
    keys: list[str] = []
    if "khmer_given_name_equal" in ev:
        if ka.km_full == kb.km_full:
            keys.append("kn:" + "|".join(ka.km_full))
        else:
            keys += [f"km:{ka.km_given}|{y}" for y in buckets]
            keys += [f"km:{kb.km_given}|{y}" for y in buckets]
    elif any(c.startswith("latin_") and c != "latin_name_differs" for c in ev):
        shared = (ka.latin_coarse_parts & kb.latin_coarse_joined) | (
            kb.latin_coarse_parts & ka.latin_coarse_joined
        )
        keys += [f"lc:{j}|{y}" for j in shared for y in buckets]
    return max((key_counts.get(k, 0) for k in keys), default=0)



def _common_name_penalty(
    a: MemberRecord, b: MemberRecord, ev: Sequence[str], key_counts: Mapping[str, int]
) -> float:
    """Term-frequency adjustment: each doubling of the records that share the agreeing name
    halves what the agreement is worth."""
    holders = _name_key_count(a, b, ev, key_counts)
    return min(COMMON_NAME_MAX_PENALTY, 0.75 * math.log2(holders)) if holders > 1 else 0.0


def _weight(ev: Sequence[str], common_penalty: float, phone_factor: float) -> float:
    weight = 0.0
    for code in ev:
        w = -common_penalty if code == "name_common" else W.get(code, 0.0)
        if code.startswith("phone_") and code != "phone_seen_long_ago":
            w *= phone_factor
        weight += w
    return weight


def _raw_band(
    a: MemberRecord, b: MemberRecord, ev: Sequence[str], weight: float, *, name_strong: bool,
    cap: str | None,
) -> str:
    """The band the weights give, held down when the evidence cannot carry it."""
    raw_band = band_of(weight)
    positive_name = any(W.get(c, 0.0) > 0 for c in ev if c.split("_")[0] in _NAME_CODES)
    nameless_lead = (not a.has_name or not b.has_name) and {
        "origin_village_equal",
        "workplace_equal",
    } <= set(ev)
    if not (positive_name or nameless_lead or any(c.startswith("phone_") for c in ev)):
        # Age and origin alone describe many women: no name, no phone, no lead.
        # A nickname-only record from her home village at her bar still is one.
        return BAND_NONE
    if raw_band == BAND_STRONG and (not name_strong or cap):
        return BAND_POSSIBLE
    return raw_band


def score_members(
    a: MemberRecord, b: MemberRecord, *, key_counts: Mapping[str, int] | None = None
) -> MatchResult:
    """Compare two member records (domain 4.4). Symmetric.

    ``key_counts`` (optional) maps blocking keys to the number of stored
    records under them; the database gets it from the blocking table in the
    same query. When the name that agrees is shared by other stored records,
    it counts for less (``name_common``, up to ``COMMON_NAME_MAX_PENALTY``):
    two women called Chan Sokha from different provinces are not a lead.
    Without it every name is treated as rare, which errs towards review.
    """
    ka, kb = a.keys, b.keys
    names = score_names(ka, kb, both_named=a.has_name and b.has_name)
    dates = score_dates(a.dob, b.dob, ka.birth_years, kb.birth_years)
    phones = score_phones(ka.phone, kb.phone, family=ka.phone_family or kb.phone_family,
                          seen_a=a.intake_date, seen_b=b.intake_date)
    places = score_places(ka, kb, a.workplace, b.workplace)
    ev = [*names.codes, *dates.codes, *phones.codes, *places.codes]
    cap = names.cap or places.cap
    common_penalty = 0.0
    if key_counts and names.strong:
        common_penalty = _common_name_penalty(a, b, ev, key_counts)
        if common_penalty > 0:
            ev.append("name_common")
    weight = _weight(ev, common_penalty, phones.factor)
    raw_band = _raw_band(a, b, ev, weight, name_strong=names.strong, cap=cap)
    veto = dates.veto
    if veto is None and a.is_minor != b.is_minor:
        veto = "child_adult"
    if veto:
        ev.append("veto_" + veto)
    return MatchResult(
        score=round(max(0.0, min(1.0, weight / SCORE_SCALE)), 3),
        band=BAND_NONE if veto else raw_band,
        evidence=tuple(ev),
        veto=veto,
        cap=cap,
        raw_band=raw_band,
        weight=round(weight, 3),
    )


def decide(a: MemberRecord, b: MemberRecord, result: MatchResult) -> Decision:
    """What the merge pipeline may do with a scored pair.

    Only an identical member_code links automatically (the same card), and
    never across a child/adult split or against conflicting dates of birth:
    those go to a caseworker or to staff.
    """
    same_card = a.member_code is not None and a.member_code == b.member_code
    if result.veto == "child_adult":
        return Decision.CASE_LINK if same_card or result.raw_band != BAND_NONE else Decision.NONE
    if same_card:
        return Decision.REVIEW if result.veto else Decision.AUTO_LINK
    if result.band in (BAND_STRONG, BAND_POSSIBLE):
        return Decision.REVIEW
    return Decision.NONE
