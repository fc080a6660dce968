"""Issue 12, second pass: the scorers added for the losses bench/linkage_lost.py named (the
romanised Khmer compared token by token, the family name read from the Latin when a Khmer box
is empty, ages graded by how they were obtained). Pure functions of server.sync.match."""

from __future__ import annotations

from datetime import date

import pytest

from server.sync.match import MemberRecord, score_dates, score_members, score_names
from server.sync.match.dates import age_gap_level, birth_is_estimated
from server.sync.match.fellegi_sunter import FIELDS, level_weights
from server.sync.match.khmer import latin_frame, name_frames

pytestmark = pytest.mark.dbless


def keys(**answers: str) -> object:
    return MemberRecord.from_answers(answers, date(2025, 1, 1)).keys


def name_codes(a: dict[str, str], b: dict[str, str]) -> tuple[str, ...]:
    return score_names(keys(**a), keys(**b), both_named=True).codes


# --- consonant frames -------------------------------------------------------------------------
@pytest.mark.parametrize(("x", "y"), [("keo", "kaev"), ("pov", "pauv"), ("mao", "mau")])
def test_latin_frame__final_glide_folded(x: str, y: str) -> None:
    assert latin_frame(x) == latin_frame(y)


def test_latin_frame__glide_inside_a_word_kept_and_sophea_sopheap_still_differ() -> None:
    assert latin_frame("sovann") != latin_frame("soann")
    assert latin_frame("sophea") != latin_frame("sopheap")


def test_name_frames__each_token_framed_before_joining() -> None:
    # "Keo" and "Kaev" only meet when framed alone: the glide is final in the word.
    assert name_frames(("keo", "kanha"), whole=True) & name_frames(("kanha", "kaev"), whole=True)
    assert "ka" in name_frames(("keo", "kanha"))
    assert "ka" not in name_frames(("keo", "kanha"), whole=True)


# --- Latin-only against Khmer-only, token by token ------------------------------------------------
def test_translit__given_name_alone_in_latin__equal() -> None:
    # លក្ខិណា is read "lokhena"; the Latin "Leakhena" has the same consonant frame.
    assert name_codes({"name_latin": "Leakhena"},
                      {"family_name_km": "ហ៊ុន", "given_name_km": "លក្ខិណា"}) == ("translit_name_equal",)


def test_translit__keo_kaev_family_and_given__equal() -> None:
    assert name_codes({"name_latin": "Keo Kanha"},
                      {"family_name_km": "កែវ", "given_name_km": "កញ្ញា"}) == ("translit_name_equal",)


def test_translit__same_given_other_family__its_own_level() -> None:
    assert name_codes({"name_latin": "Chan Leakhena"},
                      {"family_name_km": "ហ៊ុន", "given_name_km": "លក្ខិណា"}) == (
        "translit_given_equal_family_differs",)


def test_translit__nothing_in_common__differs_not_missing() -> None:
    # A missing comparison weighs nothing; a Latin name that shares nothing with the romanised
    # Khmer one is evidence against (a nickname agreement alone then cannot queue the pair).
    assert name_codes({"name_latin": "Srey Leak Yin"},
                      {"family_name_km": "ចាន់", "given_name_km": "ស្រីពៅ"}) == ("translit_name_differs",)
    w = level_weights()
    assert w["translit_name_differs"] < 0 < w["translit_name_equal"]
    assert w["translit_given_equal_family_differs"] <= w["translit_name_equal"]


# --- the family name from the Latin, when a Khmer family box is empty -----------------------------
def test_family_from_latin__equal() -> None:
    assert name_codes({"family_name_km": "ចាន់", "given_name_km": "ម៉ាលី"},
                      {"given_name_km": "ម៉ាលី", "name_latin": "Chann Maly"}) == (
        "khmer_given_name_equal", "latin_family_name_equal")


def test_family_from_latin__differs() -> None:
    assert name_codes({"family_name_km": "ហេង", "given_name_km": "ម៉ាលី"},
                      {"given_name_km": "ម៉ាលី", "name_latin": "Chann Maly"}) == (
        "khmer_given_name_equal", "latin_family_name_differs")


def test_family_from_latin__one_latin_token_says_nothing() -> None:
    assert name_codes({"family_name_km": "ហេង", "given_name_km": "ម៉ាលី"},
                      {"given_name_km": "ម៉ាលី", "name_latin": "Maly"}) == ("khmer_given_name_equal",)


def test_family_from_latin__weighs_no_more_than_the_khmer_family_name() -> None:
    w = level_weights()
    assert "latin_family_name_equal" in FIELDS["family"]
    assert 0 < w["latin_family_name_equal"] <= w["khmer_family_name_equal"]
    assert w["latin_family_name_differs"] < 0


# --- ages graded by how they were obtained --------------------------------------------------------
def test_birth_is_estimated__collector_guess_or_unknown_source() -> None:
    assert birth_is_estimated(None, "collector_estimate")
    assert birth_is_estimated(None, None)
    assert not birth_is_estimated(None, "self_report")
    assert not birth_is_estimated(None, "id_card")
    assert not birth_is_estimated(date(2001, 1, 1), None)


@pytest.mark.parametrize(("gap", "level"), [
    (1.0, "age_close"), (2.0, "age_near"), (3.0, "age_drift"), (5.0, "age_apart"),
])  # fmt: skip
def test_age_gap_level__estimated_suffix(gap: float, level: str) -> None:
    assert age_gap_level(gap, estimated=False) == level
    assert age_gap_level(gap, estimated=True) == level + "_estimated"


def test_score_dates__estimate_changes_the_level_not_the_veto() -> None:
    a, b = (1998, 2003), (2001, 2006)
    assert score_dates(None, None, a, b, reliable_a=False, reliable_b=False).codes == ("age_drift",)
    ev = score_dates(None, None, a, b, reliable_a=False, reliable_b=False, estimated=True)
    assert ev.codes == ("age_drift_estimated",) and ev.veto is None


def test_three_year_gap__weighs_more_when_a_collector_guessed() -> None:
    # Two ages the women gave themselves three years apart are mostly cousins or namesakes on
    # the labelled sets; with a collector's guess on one side, mostly the same woman.
    w = level_weights()
    assert w["age_drift_estimated"] > w["age_drift"]
    assert w["age_apart_estimated"] > w["age_apart"]


def test_score_members__collector_estimate_gives_the_estimated_level() -> None:
    base = {"family_name_km": "ចាន់", "given_name_km": "សុខា", "origin_village": "14040101"}
    a = MemberRecord.from_answers({**base, "age_stated": "20", "age_source": "self_report"},
                                  date(2025, 1, 1))
    b = MemberRecord.from_answers({**base, "age_stated": "23", "age_source": "collector_estimate"},
                                  date(2025, 1, 1))
    c = MemberRecord.from_answers({**base, "age_stated": "23", "age_source": "self_report"},
                                  date(2025, 1, 1))
    assert "age_drift_estimated" in score_members(a, b).evidence
    assert "age_drift" in score_members(a, c).evidence
    assert score_members(a, b).weight > score_members(a, c).weight
