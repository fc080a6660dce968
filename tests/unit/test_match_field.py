"""Issue 12: Khmer-aware similarity, names in the wrong place, ages as people give them, phones
in every form, Fellegi-Sunter weights (pure functions of server.sync.match)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from server.sync.match import (
    BAND_STRONG,
    Decision,
    MemberRecord,
    birth_year_bounds,
    decide,
    normalise_phone,
    score_members,
    score_names,
)
from server.sync.match.fellegi_sunter import (
    FIELDS,
    estimate_m,
    estimate_u,
    level_weights,
    levels_of,
    load_params,
)
from server.sync.match.khmer import khmer_skeleton, latin_frame, romanise, skeleton_distance
from server.sync.match.normalise import khmer_tokens

pytestmark = pytest.mark.dbless


def skel(text: str) -> str:
    return "".join(khmer_skeleton(t) for t in khmer_tokens(text))


def keys(**answers: str) -> object:
    return MemberRecord.from_answers(answers, date(2025, 1, 1)).keys


def rec(**answers: str) -> MemberRecord:
    answers.setdefault("phone_owner", "own")
    return MemberRecord.from_answers(answers, date(2025, 1, 1))


# --- Khmer skeleton -----------------------------------------------------------------------
@pytest.mark.parametrize(("a", "b", "folded"), [
    ("ល័ក", "ល័ក្ខ", "final subscript (a consonant doubled under the final)"),
    ("វណា", "វណ្ណា", "doubled subscript"),
    ("ស្រីមុំ", "ស្រីមូំ", "vowel length ុ / ូ"),
    ("ពិសី", "ពីសី", "vowel length ិ / ី"),
    ("ហ្លួង", "ហ្លូង", "ួ / ូ (the gazetteer's two spellings)"),
    ("ម៉ៅ", "មៅ", "register mark ៉"),
    ("ចិន្តា", "ចិន្ដា", "subscript DA / TA"),
    ("សុខ", "សុគ", "final consonant of the same place (ខ / គ)"),
])  # fmt: skip
def test_skeleton__folds_spelling_variants(a: str, b: str, folded: str) -> None:
    assert skel(a) == skel(b), folded


@pytest.mark.parametrize(("a", "b"), [("សុភា", "សុភាព"), ("ស្រីមុំ", "ស្រីពៅ"), ("សុខា", "ធីតា")])
def test_skeleton__keeps_different_names_apart(a: str, b: str) -> None:
    assert skel(a) != skel(b)


def test_skeleton__sophea_sopheap_one_sound_apart() -> None:
    assert skeleton_distance(skel("សុភា"), skel("សុភាព")) == 1


# --- romanisation -------------------------------------------------------------------------
@pytest.mark.parametrize(("km", "latin"), [
    ("សុខា", "sokha"), ("ចាន់", "chan"), ("ស្រីល័ក្ខ", "sreileak"), ("សុគន្ធា", "sokonthea"),
    ("ចន្ទ្រា", "chantrea"), ("ខៀវ", "khiev"), ("សួន", "suon"), ("ប៊ុន", "bun"),
    ("ដារ៉ា", "dara"), ("សុភាព", "sopheap"),
])  # fmt: skip
def test_romanise__informal_spelling_by_series(km: str, latin: str) -> None:
    assert romanise(km) == latin


def test_latin_frame__vowel_variants_meet_consonants_kept() -> None:
    assert latin_frame("sokunthea") == latin_frame("sokonthea")
    assert latin_frame(romanise("កញ្ញា")) == latin_frame("kanha")
    assert latin_frame("sophea") != latin_frame("sopheap")


# --- names in the wrong place ---------------------------------------------------------------
def test_names__khmer_final_subscript_variant__skeleton_equal_and_strong() -> None:
    ev = score_names(keys(family_name_km="ចាន់", given_name_km="ស្រីល័ក"),
                     keys(family_name_km="ចាន់", given_name_km="ស្រីល័ក្ខ"), both_named=True)
    assert ev.codes[0] == "khmer_skeleton_equal" and ev.strong


def test_names__sophea_sopheap__close_but_capped() -> None:
    ev = score_names(keys(given_name_km="សុភា"), keys(given_name_km="សុភាព"), both_named=True)
    assert ev.codes[0] == "khmer_skeleton_close" and ev.cap and not ev.strong


def test_names__latin_typed_in_khmer_boxes__compared_as_latin() -> None:
    ev = score_names(keys(family_name_km="Chan", given_name_km="Sokha"),
                     keys(name_latin="Sokhar Chan"), both_named=True)
    assert ev.codes == ("latin_name_equal",) and ev.strong


def test_names__whole_name_in_given_box__equal() -> None:
    ev = score_names(keys(given_name_km="ចាន់ សុខា"),
                     keys(family_name_km="ចាន់", given_name_km="សុខា"), both_named=True)
    assert ev.codes[0] == "khmer_given_name_equal" and ev.strong


def test_names__khmer_typed_in_latin_box__compared_as_khmer() -> None:
    ev = score_names(keys(name_latin="ចាន់ សុខា"),
                     keys(family_name_km="ចាន់", given_name_km="សុខា"), both_named=True)
    assert ev.codes[0] == "khmer_given_name_equal"


def test_names__khmer_only_vs_latin_only__through_romanisation() -> None:
    ev = score_names(keys(family_name_km="កែវ", given_name_km="សុគន្ធា"),
                     keys(name_latin="Sokonthea Kaev"), both_named=True)
    assert ev.codes == ("translit_name_equal",) and not ev.strong


def test_names__nickname_against_khmer_given_name() -> None:
    ev = score_names(keys(nicknames="Pov"), keys(given_name_km="ស្រីពៅ"), both_named=False)
    assert "nickname_equal" in ev.codes and ev.cap == "nickname_only"


# --- ages and dates ----------------------------------------------------------------------------
def test_birth_years__tolerance_grows_with_how_the_age_was_known() -> None:
    day = date(2025, 6, 1)
    widths = {src: (lambda b: b[1] - b[0])(birth_year_bounds(None, 20, src, day))
              for src in ("id_card", "self_report", "collector_estimate")}  # fmt: skip
    assert widths["id_card"] < widths["self_report"] < widths["collector_estimate"]


def test_self_reported_age_drifting_three_years__not_a_veto() -> None:
    a = rec(given_name_km="សុខា", family_name_km="ចាន់", age_stated="20", age_source="self_report",
            origin_village="14040101")
    b = MemberRecord.from_answers({**_answers(a), "age_stated": "23"}, date(2025, 3, 1))
    result = score_members(a, b)
    assert result.veto is None and result.band != "none"


def _answers(r: MemberRecord) -> dict[str, str]:
    return {"given_name_km": r.given_name_km or "", "family_name_km": r.family_name_km or "",
            "age_source": r.age_source or "", "origin_village": r.origin_village or ""}


def test_cousins_same_name_same_village_years_apart__never_strong() -> None:
    base = {"family_name_km": "ចាន់", "given_name_km": "សុខា", "origin_village": "14040101",
            "age_source": "self_report"}
    a = MemberRecord.from_answers({**base, "age_stated": "20"}, date(2025, 1, 1))
    b = MemberRecord.from_answers({**base, "age_stated": "24"}, date(2025, 1, 1))
    result = score_members(a, b)
    assert result.band != BAND_STRONG and decide(a, b, result) is not Decision.AUTO_LINK


def test_documented_birth_years_apart__veto() -> None:
    base = {"family_name_km": "ចាន់", "given_name_km": "សុខា", "origin_village": "14040101"}
    a = MemberRecord.from_answers({**base, "dob_known": "yes", "dob": "2001-03-04"},
                                  date(2025, 1, 1))
    b = MemberRecord.from_answers({**base, "dob_known": "yes", "dob": "2004-03-04"},
                                  date(2025, 1, 1))
    assert score_members(a, b).veto == "dob_differs"


def test_only_an_identical_card_merges_automatically() -> None:
    a = rec(given_name_km="សុខា", family_name_km="ចាន់", phone="012345678", member_code="AB")
    b = rec(given_name_km="សុខា", family_name_km="ចាន់", phone="012345678", member_code="CD")
    assert decide(a, b, score_members(a, b)) is Decision.REVIEW
    c = rec(given_name_km="សុខា", family_name_km="ចាន់", phone="012345678", member_code="AB")
    assert decide(a, c, score_members(a, c)) is Decision.AUTO_LINK


# --- phones --------------------------------------------------------------------------------
@pytest.mark.parametrize("written", [
    "012 345 678", "+855 12 345 678", "+855 (0)12 345 678", "855-12-345-678", "០១២ ៣៤៥ ៦៧៨",
    "012.345.678", "012 345 678 / 097 000 1234", "012345678 ឬ 0970001234",
])  # fmt: skip
def test_phone__every_written_form(written: str) -> None:
    assert normalise_phone(written) == "+85512345678"


def test_phone_given_by_many_records__weighs_less_than_an_own_phone() -> None:
    a = rec(name_latin="Kanha", phone="034000555")
    b = rec(name_latin="Leakhena", phone="034000555")
    rare = score_members(a, b, key_counts={})
    shared = score_members(a, b, key_counts={"ph:+85534000555": 12})
    assert "phone_shared_equal" in shared.evidence and shared.weight < rare.weight


# --- Fellegi-Sunter --------------------------------------------------------------------------
def test_levels_of__one_level_per_field_most_specific_first() -> None:
    levels = levels_of(["latin_name_similar", "khmer_given_name_equal", "phone_differs", "x"])
    assert levels == {"name": "khmer_given_name_equal", "phone": "phone_differs"}


def test_level_weights__log2_m_over_u() -> None:
    p = {"m": {"phone": {"phone_own_equal": 0.5}}, "u": {"phone": {"phone_own_equal": 0.01}}}
    assert level_weights(p)["phone_own_equal"] == pytest.approx(math.log2(50), abs=1e-3)


def test_level_weights__another_village_of_the_commune_not_below_another_commune() -> None:
    p = {"m": {"origin": {"origin_commune_equal_village_differs": 0.01,
                          "origin_district_equal_commune_differs": 0.4}},
         "u": {"origin": {"origin_commune_equal_village_differs": 0.02,
                          "origin_district_equal_commune_differs": 0.1}}}  # fmt: skip
    w = level_weights(p)
    assert w["origin_commune_equal_village_differs"] == w["origin_district_equal_commune_differs"]
    assert w["origin_district_equal_commune_differs"] == pytest.approx(2.0, abs=1e-3)


def test_fitted_params__agreement_outweighs_disagreement() -> None:
    w = level_weights(load_params())
    assert w["khmer_given_name_equal"] > 0 > w["khmer_given_name_differs"]
    assert w["phone_own_equal"] > w["phone_shared_equal"]
    assert w["origin_village_equal"] > w["origin_district_equal"] > w["origin_province_differs"]
    assert load_params()["thresholds"]["strong"] >= load_params()["thresholds"]["possible"]


def test_estimate_u__level_frequencies_missing_ignored() -> None:
    u = estimate_u([{"phone": "phone_differs"}] * 8 + [{}] * 5)
    assert u["phone"]["phone_differs"] > 0.5
    assert set(u) == set(FIELDS)


def test_estimate_m__em_recovers_the_match_level() -> None:
    matches = [{"phone": "phone_own_equal", "name": "khmer_given_name_equal"}] * 30
    others = [{"phone": "phone_differs", "name": "khmer_given_name_differs"}] * 270
    u = estimate_u(others * 10 + matches[:1])
    m, rate = estimate_m(matches + others, u)
    assert m["phone"]["phone_own_equal"] > 0.8 and 0.05 < rate < 0.2


def test_cousins_same_name_village_close_unreliable_ages__possible_not_strong() -> None:
    base = {"family_name_km": "ចាន់", "given_name_km": "សុខា", "origin_village": "14040101",
            "age_source": "collector_estimate", "phone_owner": "own"}
    a = MemberRecord.from_answers({**base, "age_stated": "22", "phone": "012000111"},
                                  date(2025, 1, 1))
    b = MemberRecord.from_answers({**base, "age_stated": "23", "phone": "097000222"},
                                  date(2025, 1, 1))
    assert score_members(a, b).band == "possible"


@pytest.mark.parametrize("corroboration", [
    {"phone": "012000111"},  # her own phone
    {"workplace": "w-happy"},  # the same bar
    {"age_source": "id_card"},  # both ages read off a document (cousins years apart: veto)
])
def test_same_name_village_age__strong_with_what_a_cousin_does_not_share(
    corroboration: dict[str, str],
) -> None:
    base = {"family_name_km": "ចាន់", "given_name_km": "សុខា", "origin_village": "14040101",
            "age_source": "collector_estimate", "phone_owner": "own", "age_stated": "22",
            "phone": "097000222", **corroboration}
    a = MemberRecord.from_answers({**base, "phone": "012000111", **corroboration},
                                  date(2025, 1, 1))
    b = MemberRecord.from_answers(base, date(2025, 1, 1))
    assert score_members(a, b).band == "strong"
