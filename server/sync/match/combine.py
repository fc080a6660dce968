"""The combiner: one member pair's evidence from the four scorers (names, dates, phones,
places), weighed into a band, and what the merge may do with it (domain 4.4).

Person merges are never automatic. The only automatic link is an identical ``member_code``
(the same card); everything else is a review candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from server.sync.match.dates import score_dates
from server.sync.match.fellegi_sunter import level_weights, levels_of
from server.sync.match.keys import year_buckets
from server.sync.match.names import score_names
from server.sync.match.phones import score_phones
from server.sync.match.places import score_places
from server.sync.match.records import MemberRecord
from server.sync.match.result import (
    BAND_NONE,
    BAND_POSSIBLE,
    BAND_STRONG,
    Decision,
    MatchResult,
    band_of,
    match_probability,
)

#: Cap of the term-frequency penalty for a name shared by many records. Kept for the
#: databases' import; the penalty is now log2(H0/holders) (name_frequency_adjustment),
#: bounded by the capped key count.
COMMON_NAME_MAX_PENALTY = 2.5
#: Most a rare name's agreement may gain over the average name's (bits): a name seen once is
#: rare here, not necessarily rare in the country.
TF_MAX_BONUS = 0.0
_NAME_FIELDS = frozenset({"name", "nickname"})
#: Date levels under which two records may be "strong": the same day, or birth years that
#: agree within a year and a half. Cousins with the same name from the same village were
#: born 2-6 years apart (issue 12), and a woman's own age drifts as much, so a wider gap
#: leaves the pair to staff as "possible", whatever else agrees.
_STRONG_DATE_LEVELS = frozenset({"dob_equal", "dob_day_month_swapped", "age_close",
                                 "age_close_estimated"})  # fmt: skip
#: What a cousin or a sister does not share with her: a pair whose name, origin and a close
#: age agree is "strong" only with one of these as well, or with birth years both sides read
#: off a document (then cousins born 2-6 years apart are vetoed). Cousins named after the
#: same grandmother, from one village, with ages given by themselves or guessed, agree on all
#: the rest (issue 12: 11 of them were "strong").
_CORROBORATING_LEVELS = frozenset({
    "phone_own_equal", "phone_family_equal", "dob_equal", "dob_day_month_swapped",
    "workplace_equal", "nickname_equal",
})  # fmt: skip


def W() -> Mapping[str, float]:
    """Level → weight (log2 m/u), from the fitted parameters (:mod:`.fellegi_sunter`)."""
    return level_weights()


def name_key_holders(
    a: MemberRecord, b: MemberRecord, ev: Sequence[str], key_counts: Mapping[str, int]
) -> tuple[str, int] | None:
    """(key kind, how many stored records share the name key that made this pair agree):
    ``kn`` the whole Khmer name, ``km`` the Khmer given name in a birth bucket, ``lc`` the
    Latin name (or a part of it) in a birth bucket; None when no name key agrees."""
    ka, kb = a.keys, b.keys
    buckets = set(year_buckets(a)) & set(year_buckets(b))
    keys: list[str] = []
    if "khmer_given_name_equal" in ev or "khmer_skeleton_equal" in ev:
        if ka.km_full == kb.km_full:
            kind, keys = "kn", ["kn:" + "|".join(ka.km_full)]
        else:
            kind = "km"
            keys += [f"km:{ka.km_given}|{y}" for y in buckets]
            keys += [f"km:{kb.km_given}|{y}" for y in buckets]
    elif any(c.startswith("latin_") and c != "latin_name_differs" for c in ev):
        shared = (ka.latin_coarse_parts & kb.latin_coarse_joined) | (
            kb.latin_coarse_parts & ka.latin_coarse_joined
        )
        kind, keys = "lc", [f"lc:{j}|{y}" for j in shared for y in buckets]
    holders = max((key_counts.get(k, 0) for k in keys), default=0)
    return (kind, holders) if holders else None


def _common_name_penalty(
    a: MemberRecord, b: MemberRecord, ev: Sequence[str], key_counts: Mapping[str, int]
) -> float:
    """Term-frequency adjustment: each doubling of the records that share the agreeing name
    halves what the agreement is worth."""
    found = name_key_holders(a, b, ev, key_counts)
    holders = found[1] if found else 0
    return min(COMMON_NAME_MAX_PENALTY, 0.75 * math.log2(holders)) if holders > 1 else 0.0


def _weight(levels: Mapping[str, str], common_penalty: float) -> float:
    """Sum of the Fellegi-Sunter weights of the pair's levels, less the common-name penalty."""
    weights = level_weights()
    return sum(weights.get(level, 0.0) for level in levels.values()) - common_penalty


def _raw_band(
    a: MemberRecord, b: MemberRecord, levels: Mapping[str, str], weight: float, *,
    name_strong: bool, cap: str | None,
) -> str:
    """The band the weights give, held down when the evidence cannot carry it."""
    raw_band = band_of(weight)
    weights = level_weights()
    positive_name = any(weights.get(lv, 0.0) > 0 for f, lv in levels.items() if f in _NAME_FIELDS)
    nameless_lead = (not a.has_name or not b.has_name) and (
        levels.get("origin") == "origin_village_equal"
        and levels.get("workplace") == "workplace_equal"
    )
    own_phone = levels.get("phone") == "phone_own_equal"
    same_day = levels.get("dates") in ("dob_equal", "dob_day_month_swapped")
    if not (positive_name or nameless_lead or own_phone or same_day):
        # Age and origin alone describe many women: no name, no own phone, no lead. A
        # family phone is shared with her sisters. A nickname-only record from her home
        # village at her bar, or born the same day, still is a lead.
        return BAND_NONE
    corroborated = bool(_CORROBORATING_LEVELS & set(levels.values())) or (
        a.keys.birth_reliable and b.keys.birth_reliable
    )
    if raw_band == BAND_STRONG and (
        not name_strong or cap or not corroborated
        or levels.get("dates", "age_close") not in _STRONG_DATE_LEVELS
    ):
        return BAND_POSSIBLE
    return raw_band


def score_members(
    a: MemberRecord, b: MemberRecord, *, key_counts: Mapping[str, int] | None = None
) -> MatchResult:
    """Compare two member records (domain 4.4, issue 12). Symmetric.

    Each scorer gives evidence codes; :mod:`.fellegi_sunter` turns them into one level per
    field and their fitted weights (log2 m/u) are summed. ``score`` is the match
    probability under the fitted match rate.

    ``key_counts`` (optional) maps blocking keys to the number of stored records under them;
    the database gets it from the blocking table in the same query. When the name that
    agrees is shared by other stored records it counts for less (``name_common``, up to
    ``COMMON_NAME_MAX_PENALTY``), and a phone given by many records counts as shared
    (``phone_shared_equal``). Without it every name and phone is treated as rare, which
    errs towards review.
    """
    ka, kb = a.keys, b.keys
    counts = key_counts or {}
    names = score_names(ka, kb, both_named=a.has_name and b.has_name)
    dates = score_dates(a.dob, b.dob, ka.birth_years, kb.birth_years,
                        reliable_a=ka.birth_reliable, reliable_b=kb.birth_reliable,
                        estimated=ka.birth_estimated or kb.birth_estimated)  # fmt: skip
    phones = score_phones(ka.phone, kb.phone, family=ka.phone_family or kb.phone_family,
                          seen_a=a.intake_date, seen_b=b.intake_date,
                          holders=counts.get(f"ph:{ka.phone}", 0) if ka.phone else 0)  # fmt: skip
    places = score_places(ka, kb, a.workplace, b.workplace)
    ev = [*names.codes, *dates.codes, *phones.codes, *places.codes]
    cap = names.cap or places.cap
    common_penalty = 0.0
    if key_counts and names.strong:
        common_penalty = _common_name_penalty(a, b, ev, key_counts)
        if common_penalty > 0:
            ev.append("name_common")
    levels = levels_of(ev)
    weight = _weight(levels, common_penalty)
    raw_band = _raw_band(a, b, levels, weight, name_strong=names.strong, cap=cap)
    veto = dates.veto
    if veto is None and a.is_minor != b.is_minor:
        veto = "child_adult"
    if veto:
        ev.append("veto_" + veto)
    return MatchResult(
        score=round(match_probability(weight), 3),
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
