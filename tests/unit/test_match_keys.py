"""District name keys (``nd:``): the name keys that stay selective as the table grows."""

from __future__ import annotations

from datetime import date

import pytest

from server.sync.match import MemberRecord, blocking_keys
from server.sync.match.keys import district_name_keys

pytestmark = pytest.mark.dbless


def rec(**answers: str) -> MemberRecord:
    answers.setdefault("age_stated", "24")
    answers.setdefault("age_source", "self_report")
    return MemberRecord.from_answers(answers, date(2025, 1, 1))


def nd(r: MemberRecord) -> set[str]:
    return {k for k in blocking_keys(r) if k.startswith("nd:")}


HOME = {"origin_village": "14040101"}  # Mean Chey, Chong Ampil, Kanhchriech
OTHER_COMMUNE = {"origin_village": "14040201"}  # another commune of district 1404


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # another commune of the same district, the same name with a vowel-length variant
        ({"family_name_km": "ចាន់", "given_name_km": "សុគន្ធា", **HOME},
         {"family_name_km": "ចាន់", "given_name_km": "សូគន្ធា", **OTHER_COMMUNE}),
        # boxes swapped, district only on one side
        ({"family_name_km": "ចាន់", "given_name_km": "វណ្ណា", **HOME},
         {"family_name_km": "វណា", "given_name_km": "ចាន់", "origin_district": "1404"}),
        # family name left out on one side
        ({"family_name_km": "ហេង", "given_name_km": "ស្រីល័ក្ខ", **HOME},
         {"given_name_km": "ស្រីល័ក", **OTHER_COMMUNE}),
        # Khmer only against Latin only (the romanised Khmer)
        ({"family_name_km": "ចាន់", "given_name_km": "ធីតា", **HOME},
         {"name_latin": "Thida Chan", **OTHER_COMMUNE}),
        # village not in the list: the commune typed, the district follows
        ({"name_latin": "Sokha Keo", **HOME},
         {"name_latin": "Keo Sokhar", "origin_village": "unk-140402",
          "origin_village_text": "Phum Thmei"}),
        # a nickname alone on one side
        ({"name_latin": "Nhim Sreypov", "nicknames": "Pov", **HOME},
         {"nicknames": "Pov", **OTHER_COMMUNE}),
    ],
)
def test_district_name_keys__variants_of_one_woman_meet(a: dict, b: dict) -> None:
    assert nd(rec(**a)) & nd(rec(**b))


def test_district_name_keys__other_district_or_no_origin__none_shared() -> None:
    a = rec(family_name_km="ចាន់", given_name_km="សុខា", **HOME)
    b = rec(family_name_km="ចាន់", given_name_km="សុខា", origin_village="14050101")
    assert not nd(a) & nd(b)
    assert district_name_keys(rec(family_name_km="ចាន់", given_name_km="សុខា")) == set()


def test_district_name_keys__birth_years_far_apart__no_bucket_shared() -> None:
    a = rec(name_latin="Chan Sokha", age_stated="20", **HOME)
    b = rec(name_latin="Chan Sokha", age_stated="34", **HOME)
    assert not nd(a) & nd(b)
