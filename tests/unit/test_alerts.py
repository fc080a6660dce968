"""Alert rules of domain.md 3.4, recomputed from answers (pure, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from server.sync import alerts


def codes(found: list[alerts.Alert]) -> list[tuple[str, str, str]]:
    return sorted((a.code, a.category, a.priority) for a in found)


ADULT = {"consent": "yes", "is_minor": "no", "age_years": "22"}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({**ADULT}, []),
        ({"consent": "yes", "age_years": "16", "is_minor": "yes"},
         [("U18", "child_protection", "urgent")]),
        ({"consent": "yes", "age_years": "17", "is_minor": "no"},  # server recomputes
         [("U18", "child_protection", "urgent")]),
        ({"consent": "yes"}, [("U18", "child_protection", "urgent")]),  # no age: a minor
        ({**ADULT, "id_card": "held_by_employer"}, [("FL-S", "forced_labour", "urgent")]),
        ({**ADULT, "fl_screen": "movement"}, [("FL-S", "forced_labour", "urgent")]),
        ({**ADULT, "fl_screen": "deception isolation"}, [("FL-2", "forced_labour", "normal")]),
        ({**ADULT, "fl_screen": "overtime"}, []),
        ({**ADULT, "recruited_via": "broker_recruiter", "fl_screen": "deception"},
         [("TRF", "trafficking", "normal")]),
        ({**ADULT, "recruited_via": "friend", "fl_screen": "deception"}, []),
        ({**ADULT, "health_now": "yes", "legal_now": "yes"},
         [("HLT", "health", "normal"), ("LEG", "legal", "normal")]),
        ({"consent": "no", "is_minor": "no", "age_years": "30", "health_now": "yes"}, []),
    ],
)
def test_intake_rules(answers: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert codes(alerts.intake_alerts(answers)) == expected


def test_intake_minor__every_sign_is_a_trigger_of_one_restricted_child_protection_alert():
    minor = {"consent": "yes", "age_years": "16", "is_minor": "yes", "fl_screen": "movement",
             "health_now": "yes", "recruited_via": "broker_recruiter"}
    found = alerts.intake_alerts(minor)
    assert {(a.category, a.priority, a.alert_key) for a in found} == {
        ("child_protection", "urgent", "child_protection")}
    assert [a.code for a in found] == ["U18", "FL-S", "HLT"]


@pytest.mark.parametrize(
    ("form_id", "answers"),
    [
        # "Don't know" / "did not see" raises nothing by itself (domain.md 3.4) ...
        ("workplace_visit", {"u18_suspected": "no", "fl_seen": "dont_know",
                             "locked_in": "dont_know", "forced_drinking": "dont_know",
                             "shift_known": "dont_know", "days_off": "dont_know",
                             "pay_type": "dont_know", "pe_safety": "safe"}),
        ("member_intake", {**ADULT, "fl_screen": "dont_know", "id_card": "dont_know",
                           "recruited_via": "dont_know"}),
        ("village_data", {"n_left_under18": "0", "n_children_working_away": "0",
                          "any_concern": "yes",
                          "case_alert": [{"concern_type": "violence_abuse",
                                          "age_group": "unknown", "urgency": "this_week"}]}),
    ],
)
def test_dont_know__raises_no_rule_of_its_own(form_id: str, answers: dict[str, Any]) -> None:
    found = alerts.alerts_for(form_id, answers)
    assert not [a for a in found if a.code in {"U18", "FL-S", "FL-2", "TRF"}]


def test_unsure_about_age__counts_as_under_18() -> None:
    # ... except where 3.4 and 1.6 say so: an unsure under-18 sighting, or no age at all.
    assert [a.code for a in alerts.visit_alerts({"u18_suspected": "unsure"})] == ["U18"]
    assert [a.code for a in alerts.intake_alerts({"consent": "yes", "dob_known": "no"})] == [
        "U18"]


BASE_VISIT = {"u18_suspected": "no", "fl_seen": "none", "access": "inside_freely",
              "pe_safety": "safe"}


@pytest.mark.parametrize(
    ("over", "expected", "risk"),
    [
        ({}, [], "green"),
        ({"u18_suspected": "yes"}, [("U18", "child_protection", "urgent")], "red"),
        ({"u18_suspected": "unsure"}, [("U18", "child_protection", "urgent")], "red"),
        ({"locked_in": "yes"}, [("FL-S", "forced_labour", "urgent")], "red"),
        ({"fl_seen": "threats"}, [("FL-S", "forced_labour", "urgent")], "red"),
        ({"shift_hours": "14", "pay_type": "not_paid_yet"},
         [("FL-2", "forced_labour", "normal")], "red"),
        ({"forced_drinking": "yes"}, [], "amber"),  # FL-1
        ({"days_off": "none", "shift_hours": "13"}, [], "amber"),  # both are "overtime"
        ({"access": "refused"}, [], "amber"),
        ({"pe_safety": "threatened"}, [("SEC", "pe_security", "urgent")], "green"),
    ],
)
def test_visit_rules(over: dict[str, Any], expected: list[tuple[str, str, str]], risk: str) -> None:
    answers = {**BASE_VISIT, **over}
    assert codes(alerts.visit_alerts(answers)) == expected
    assert alerts.visit_risk(answers) == risk


def test_visit_acc__refused_twice_in_a_row() -> None:
    assert alerts.access_refused_twice({"access": "refused"}, "refused")
    assert not alerts.access_refused_twice({"access": "refused"}, "outside_only")
    assert not alerts.access_refused_twice({"access": "inside_freely"}, "refused")


def test_village_u18v() -> None:
    assert codes(alerts.village_alerts({"n_left_under18": "2", "any_concern": "no"})) == [
        ("U18-V", "child_protection", "normal")]
    assert codes(alerts.village_alerts({"n_children_working_away": "1"})) == [
        ("U18-V", "child_protection", "normal")]
    assert alerts.village_alerts({"n_left_under18": "0", "n_children_working_away": "0"}) == []


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"concern_type": "child_in_venue", "age_group": "25_plus"},
         [("U18", "child_protection", "urgent")]),
        ({"concern_type": "violence_abuse", "age_group": "under_15"},
         [("U18", "child_protection", "urgent")]),
        ({"concern_type": "suspected_trafficking", "age_group": "18_24", "urgency": "now"},
         [("TRF", "trafficking", "urgent")]),
        ({"concern_type": "missing_person", "age_group": "18_24", "urgency": "this_week"},
         [("TRF", "trafficking", "normal")]),
        ({"concern_type": "suspected_trafficking", "age_group": "15_17"},
         [("TRF", "child_protection", "urgent"), ("U18", "child_protection", "urgent")]),
        ({"concern_type": "debt_bondage", "age_group": "25_plus"},
         [("CONCERN", "forced_labour", "normal")]),
    ],
)
def test_village_case_alerts(row: dict[str, str], expected: list[tuple[str, str, str]]) -> None:
    found = alerts.village_alerts({"any_concern": "yes", "case_alert": [row]})
    assert codes(found) == expected
    assert {a.alert_key for a in found} == {"case_alert:1"}  # one referral per concern


def test_village_case_alerts__one_key_each() -> None:
    rows = [{"concern_type": "other"}, {"concern_type": "forced_labour"}]
    found = alerts.village_alerts({"any_concern": "yes", "case_alert": rows})
    assert [a.alert_key for a in found] == ["case_alert:1", "case_alert:2"]
