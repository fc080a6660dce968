"""The four evidence scorers of server.sync.match, each alone (pure functions)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from server.sync.match import (
    MemberRecord,
    score_dates,
    score_names,
    score_phones,
    score_places,
)

pytestmark = pytest.mark.dbless


def keys(**answers: str) -> object:
    return MemberRecord.from_answers(answers, date(2025, 1, 1)).keys


def origin(province: str | None = None, district: str | None = None, commune: str | None = None,
           village: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(province=province, district=district, commune=commune, village=village)


# --- names ------------------------------------------------------------------------------------
def test_names__same_khmer_given_and_family__strong() -> None:
    ev = score_names(keys(family_name_km="ចាន់", given_name_km="សុខា"),
                     keys(family_name_km="ចាន់", given_name_km="សុខា"), both_named=True)
    assert ev.codes == ("khmer_given_name_equal", "khmer_family_name_equal")
    assert ev.strong and ev.cap is None


def test_names__family_and_given_boxes_swapped__still_family_equal() -> None:
    ev = score_names(keys(family_name_km="ចាន់", given_name_km="សុខា"),
                     keys(family_name_km="សុខា", given_name_km="ចាន់"), both_named=True)
    assert "khmer_family_name_equal" in ev.codes


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"given_name_km": "សុខា"}, {"given_name_km": "សុខា"}),  # given names agree
        ({"given_name_km": "សុខា"}, {"given_name_km": "សុភាព"}),  # given names differ (sisters)
        ({"given_name_km": "វណ្ណា"}, {"given_name_km": "វណា"}),  # a folded spelling
    ],
)
def test_names__family_level_given_whatever_the_given_names_did(a: dict, b: dict) -> None:
    # The Fellegi-Sunter weight of a level is only meaningful if the level is always given.
    same = score_names(keys(family_name_km="ចាន់", **a), keys(family_name_km="ចាន់", **b),
                       both_named=True)
    other = score_names(keys(family_name_km="ចាន់", **a), keys(family_name_km="ហេង", **b),
                        both_named=True)
    assert "khmer_family_name_equal" in same.codes
    assert "khmer_family_name_differs" in other.codes


def test_names__family_spelling_folded_by_skeleton__equal() -> None:
    ev = score_names(keys(family_name_km="ស៊ុំ", given_name_km="សុខា"),
                     keys(family_name_km="ស៊ូំ", given_name_km="សុខា"), both_named=True)
    assert "khmer_family_name_equal" in ev.codes


def test_names__whole_name_in_given_box__family_found_there() -> None:
    ev = score_names(keys(family_name_km="ចាន់", given_name_km="សុខា"),
                     keys(family_name_km="ហេង", given_name_km="ចាន់ សុខា"), both_named=True)
    assert "khmer_family_name_equal" in ev.codes


def test_names__khmer_given_differs__capped_and_latin_ignored() -> None:
    ev = score_names(keys(given_name_km="សុខា", name_latin="Sophea"),
                     keys(given_name_km="ធីតា", name_latin="Sophea"), both_named=True)
    assert ev.codes == ("khmer_given_name_differs",)
    assert ev.cap == "khmer_given_name_differs" and not ev.strong


def test_names__latin_phonetic_variants_and_order__equal() -> None:
    ev = score_names(keys(name_latin="Chan Sokha"), keys(name_latin="Sokhar Chan"),
                     both_named=True)
    assert ev.codes == ("latin_name_equal",) and ev.strong


def test_names__latin_against_khmer_only__transliteration() -> None:
    ev = score_names(keys(name_latin="Sokha"), keys(given_name_km="សុខា"), both_named=True)
    assert ev.codes and ev.codes[0].startswith("translit_name_")
    assert not ev.strong


def test_names__nickname_only_record__capped() -> None:
    ev = score_names(keys(nicknames="Pov"), keys(given_name_km="ស្រីពៅ", name_latin="Srey Pov"),
                     both_named=False)
    assert "nickname_equal" in ev.codes
    assert ev.cap == "nickname_only" and not ev.strong


# --- dates ------------------------------------------------------------------------------------
def test_dates__equal_dob() -> None:
    d = date(2001, 3, 4)
    assert score_dates(d, d, (2001, 2001), (2001, 2001)).codes == ("dob_equal",)


def test_dates__day_and_month_swapped__evidence_not_veto() -> None:
    ev = score_dates(date(2001, 3, 4), date(2001, 4, 3), (2001, 2001), (2001, 2001))
    assert ev.codes == ("dob_day_month_swapped",) and ev.veto is None


def test_dates__two_different_ce_dates__veto() -> None:
    assert score_dates(date(2001, 3, 4), date(2002, 7, 9), None, None).veto == "dob_differs"


def test_dates__same_year_other_day__slip_not_veto() -> None:
    ev = score_dates(date(2001, 3, 4), date(2001, 5, 9), None, None)
    assert ev.veto is None and ev.codes == ("dob_differs_same_year",)


def test_dates__buddhist_era_year_matches_its_ce_year() -> None:
    # 2544 BE is 2000 or 2001 CE depending on the time of year.
    ev = score_dates(date(2544, 3, 4), date(2001, 3, 4), (2000, 2001), (2001, 2001))
    assert ev.codes == ("dob_equal",) and ev.veto is None


def test_dates__disjoint_birth_years__veto_only_when_both_reliable() -> None:
    assert score_dates(None, None, (1990, 1993), (1999, 2001)).veto == "birth_years_disjoint"
    ev = score_dates(None, None, (1990, 1993), (1999, 2001), reliable_a=False)
    assert ev.veto is None and ev.codes == ("birth_years_far",)


@pytest.mark.parametrize(("a", "b", "code"), [
    ((2000, 2003), (2001, 2004), "age_close"),
    ((1999, 2003), (2001, 2006), "age_near"),
    ((1998, 2003), (2001, 2006), "age_drift"),
    ((1995, 2005), (2001, 2014), "age_apart"),
])  # fmt: skip
def test_dates__overlapping_birth_years(a: tuple[int, int], b: tuple[int, int], code: str) -> None:
    assert score_dates(None, None, a, b).codes == (code,)


def test_dates__nothing_known__no_evidence() -> None:
    assert score_dates(None, None, None, (2000, 2001)).codes == ()


# --- phones -----------------------------------------------------------------------------------
def test_phones__same_own_phone() -> None:
    ev = score_phones("+85597000", "+85597000", family=False, seen_a=date(2024, 1, 1),
                      seen_b=date(2024, 6, 1))
    assert ev.codes == ("phone_own_equal",)


def test_phones__family_phone_counts_as_family() -> None:
    ev = score_phones("+85597000", "+85597000", family=True, seen_a=date(2024, 1, 1),
                      seen_b=date(2024, 1, 1))
    assert ev.codes == ("phone_family_equal",)


def test_phones__seen_years_apart__own_level() -> None:
    ev = score_phones("+85597000", "+85597000", family=False, seen_a=date(2020, 1, 1),
                      seen_b=date(2024, 1, 1))
    assert ev.codes == ("phone_seen_long_ago",)


def test_phones__number_given_by_many_records__shared_level() -> None:
    day = date(2024, 1, 1)
    ev = score_phones("+85597000", "+85597000", family=False, seen_a=day, seen_b=day, holders=5)
    assert ev.codes == ("phone_shared_equal",)


def test_phones__missing__nothing_different__new_sim_level() -> None:
    day = date(2024, 1, 1)
    assert score_phones(None, None, family=False, seen_a=day, seen_b=day).codes == ()
    assert score_phones("+1", None, family=False, seen_a=day, seen_b=day).codes == ()
    assert score_phones("+1", "+2", family=False, seen_a=day, seen_b=day).codes == (
        "phone_differs",
    )


# --- places -----------------------------------------------------------------------------------
def test_places__same_village() -> None:
    a = origin("14", "1404", "140401", "14040101")
    assert score_places(a, a, None, None).codes == ("origin_village_equal",)


def test_places__same_commune_other_village() -> None:
    ev = score_places(origin("14", "1404", "140401", "14040101"),
                      origin("14", "1404", "140401", "14040102"), None, None)
    assert ev.codes == ("origin_commune_equal_village_differs",)


def test_places__same_district__other_commune_or_district_only() -> None:
    a = origin("14", "1404", "140401", "14040101")
    assert score_places(a, origin("14", "1404", "140402"), None, None).codes == (
        "origin_district_equal_commune_differs",
    )
    assert score_places(a, origin("14", "1404"), None, None).codes == ("origin_district_equal",)


def test_places__same_province_other_district() -> None:
    ev = score_places(origin("14", "1404"), origin("14", "1405"), None, None)
    assert ev.codes == ("origin_province_equal", "origin_district_differs")


def test_places__other_province__capped() -> None:
    ev = score_places(origin("14"), origin("21"), None, None)
    assert ev.codes == ("origin_province_differs",) and ev.cap == "origin_province_differs"


def test_places__same_workplace() -> None:
    assert score_places(origin(), origin(), "w1", "w1").codes == ("workplace_equal",)
    assert score_places(origin(), origin(), "w1", "w2").codes == ("workplace_differs",)
    assert score_places(origin(), origin(), None, None).codes == ()
