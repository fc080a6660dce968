"""Alert rules (domain.md 3.4), recomputed on the server from a submission's answers.

Pure functions over the flat answers dict that ``server.sync.merge`` builds (leaf name ->
string; repeats -> list of such dicts; select_multiple answers are space-separated strings).
The form's own ``risk_flag`` is only a hint to the collector and is ignored here.

Each :class:`Alert` names the referral it asks for. Alerts with the same ``alert_key`` in one
submission become one referral whose ``triggers`` are their codes. Rules that only change a
workplace's risk (FL-1, ACC) produce no alert; see :func:`visit_risk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

FORM_INTAKE = "member_intake"
FORM_VISIT = "workplace_visit"
FORM_VILLAGE = "village_data"

#: ILO indicators (domain.md 3.0): "strong" ones open a referral on their own.
STRONG_INDICATORS = frozenset({"movement", "violence", "threats", "id_retention", "debt_bondage"})
OTHER_INDICATORS = frozenset(
    {"vulnerability", "deception", "isolation", "wage_withholding", "abusive_conditions", "overtime"}
)

U18_AGE_GROUPS = frozenset({"under_15", "15_17"})

# Village concern_type -> referral category when the person is not a child.
CONCERN_CATEGORY = {
    "missing_person": "trafficking",
    "suspected_trafficking": "trafficking",
    "child_in_venue": "child_protection",
    "forced_labour": "forced_labour",
    "debt_bondage": "forced_labour",
    "violence_abuse": "abuse_violence",
    "other": "other",
}

URGENT = "urgent"
NORMAL = "normal"


@dataclass(frozen=True)
class Alert:
    code: str  # rule code: U18, U18-V, FL-S, FL-2, TRF, HLT, LEG, SEC (+ CONCERN, F3)
    category: str  # referral category (ReferralCategory value)
    priority: str  # urgent | normal
    alert_key: str  # one referral per key per submission
    # Anonymous person descriptor for unregistered people (age_group, sex, n), S.
    descriptor: Mapping[str, Any] = field(default_factory=dict)
    # Workplace entity id chosen in the form, if the alert names one (village alert_workplace).
    workplace_ref: str | None = None


# --- answer helpers ---------------------------------------------------------------------------
def _s(answers: Mapping[str, Any], name: str) -> str:
    value = answers.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(answers: Mapping[str, Any], name: str) -> int | None:
    raw = _s(answers, name)
    if not raw:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None


def _multi(answers: Mapping[str, Any], name: str) -> frozenset[str]:
    return frozenset(_s(answers, name).split())


def _rows(answers: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = answers.get(name)
    if isinstance(value, list):
        return [row for row in value if isinstance(row, Mapping)]
    if isinstance(value, Mapping):
        return [value]
    return []


# --- indicators -------------------------------------------------------------------------------
def intake_indicators(answers: Mapping[str, Any]) -> frozenset[str]:
    """fl_screen plus the derived id_card=held_by_employer -> id_retention."""
    found = set(_multi(answers, "fl_screen") & (STRONG_INDICATORS | OTHER_INDICATORS))
    if _s(answers, "id_card") == "held_by_employer":
        found.add("id_retention")
    return frozenset(found)


def visit_indicators(answers: Mapping[str, Any]) -> frozenset[str]:
    """fl_seen plus the derived ones (domain.md 3.2 rows 28-32)."""
    found = set(_multi(answers, "fl_seen") & (STRONG_INDICATORS | OTHER_INDICATORS))
    if _s(answers, "locked_in") == "yes":
        found.add("movement")
    if _s(answers, "forced_drinking") == "yes":
        found.add("abusive_conditions")
    shift = _int(answers, "shift_hours")
    if shift is not None and shift > 12:
        found.add("overtime")
    if _s(answers, "days_off") == "none":
        found.add("overtime")
    if _s(answers, "pay_type") == "not_paid_yet":
        found.add("wage_withholding")
    return frozenset(found)


def _forced_labour(indicators: Iterable[str], key: str = "forced_labour") -> list[Alert]:
    ind = frozenset(indicators)
    strong = ind & STRONG_INDICATORS
    other = ind & OTHER_INDICATORS
    alerts = []
    if strong:
        alerts.append(Alert("FL-S", "forced_labour", URGENT, key))
    if len(other) >= 2:
        alerts.append(Alert("FL-2", "forced_labour", NORMAL, key))
    return alerts


# --- per form ---------------------------------------------------------------------------------
def intake_age(answers: Mapping[str, Any]) -> int | None:
    return _int(answers, "age_years")


def intake_is_minor(answers: Mapping[str, Any]) -> bool:
    """Under 18 by is_minor or by age; a missing age counts as a minor (domain.md 3.5 #2)."""
    if _s(answers, "is_minor") == "yes":
        return True
    age = intake_age(answers)
    if age is None:
        age = _int(answers, "age_stated")
    if age is not None:
        return age < 18
    return _s(answers, "is_minor") != "no"


def intake_alerts(answers: Mapping[str, Any]) -> list[Alert]:
    """Form 1: U18, FL-S, FL-2, TRF, HLT, LEG. A minor's intake raises one child-protection
    alert carrying every trigger."""
    if _s(answers, "consent") == "no" and not intake_is_minor(answers):
        return []
    alerts: list[Alert] = []
    alerts += _forced_labour(intake_indicators(answers))
    if _s(answers, "recruited_via") == "broker_recruiter" and "deception" in _multi(
        answers, "fl_screen"
    ):
        alerts.append(Alert("TRF", "trafficking", NORMAL, "trafficking"))
    if _s(answers, "health_now") == "yes":
        alerts.append(Alert("HLT", "health", NORMAL, "health"))
    if _s(answers, "legal_now") == "yes":
        alerts.append(Alert("LEG", "legal", NORMAL, "legal"))
    if not intake_is_minor(answers):
        return alerts
    # A child's intake opens one urgent child-protection referral, visible only to that role
    # (1.5 rule 4, 1.6); her other signs are triggers of it, never separate referrals that
    # other roles would see coming from an intake with no member.
    descriptor = {"age": intake_age(answers), "safe_now": _s(answers, "minor_safe_now") or None}
    return [Alert("U18", "child_protection", URGENT, "child_protection", descriptor)] + [
        replace(a, category="child_protection", priority=URGENT, alert_key="child_protection")
        for a in alerts
    ]


def visit_alerts(answers: Mapping[str, Any]) -> list[Alert]:
    """Form 2: U18 (anonymous, n_u18), FL-S, FL-2, SEC."""
    alerts: list[Alert] = []
    if _s(answers, "u18_suspected") in {"yes", "unsure"}:
        descriptor = {"n": _int(answers, "n_u18"), "suspected": _s(answers, "u18_suspected")}
        alerts.append(Alert("U18", "child_protection", URGENT, "child_protection", descriptor))
    alerts += _forced_labour(visit_indicators(answers))
    if _s(answers, "pe_safety") == "threatened":
        alerts.append(Alert("SEC", "pe_security", URGENT, "pe_security"))
    return alerts


def village_alerts(answers: Mapping[str, Any]) -> list[Alert]:
    """Form 3: U18-V for the village, and one referral per case_alert: U18 (child), TRF
    (trafficking or missing person), otherwise CONCERN with the concern's category."""
    alerts: list[Alert] = []
    if (_int(answers, "n_left_under18") or 0) > 0 or (
        _int(answers, "n_children_working_away") or 0
    ) > 0:
        alerts.append(Alert("U18-V", "child_protection", NORMAL, "village:U18-V"))
    if _s(answers, "any_concern") == "no":
        return alerts
    for index, row in enumerate(_rows(answers, "case_alert"), start=1):
        concern = _s(row, "concern_type")
        if not concern:
            continue
        key = f"case_alert:{index}"
        urgent = _s(row, "urgency") == "now"
        descriptor = {k: _s(row, k) or None for k in ("age_group", "sex", "where", "concern_type")}
        workplace_ref = _s(row, "alert_workplace") or None
        child = _s(row, "age_group") in U18_AGE_GROUPS or concern == "child_in_venue"
        if child:
            alerts.append(
                Alert("U18", "child_protection", URGENT, key, descriptor, workplace_ref)
            )
        category = "child_protection" if child else CONCERN_CATEGORY.get(concern, "other")
        priority = URGENT if (urgent or child) else NORMAL
        if concern in {"suspected_trafficking", "missing_person"}:
            alerts.append(Alert("TRF", category, priority, key, descriptor, workplace_ref))
        elif not child:
            # Not a 3.4 rule: the village form asks for one referral per concern anyway.
            alerts.append(Alert("CONCERN", category, priority, key, descriptor, workplace_ref))
    return alerts


def alerts_for(form_id: str, answers: Mapping[str, Any]) -> list[Alert]:
    if form_id == FORM_INTAKE:
        return intake_alerts(answers)
    if form_id == FORM_VISIT:
        return visit_alerts(answers)
    if form_id == FORM_VILLAGE:
        return village_alerts(answers)
    return []


def visit_risk(answers: Mapping[str, Any], previous_access: str | None = None) -> str:
    """Workplace risk from one visit: red (U18, a strong indicator, or FL-2), amber (one
    "other" indicator, access refused, or ACC: refused on this and the previous visit),
    else green (domain.md 3.2 row 40 and 3.5 #14)."""
    indicators = visit_indicators(answers)
    other = indicators & OTHER_INDICATORS
    if _s(answers, "u18_suspected") in {"yes", "unsure"} or indicators & STRONG_INDICATORS:
        return "red"
    if len(other) >= 2:
        return "red"
    if other or _s(answers, "access") == "refused":
        return "amber"
    return "green"


def access_refused_twice(answers: Mapping[str, Any], previous_access: str | None) -> bool:
    """ACC: access refused on two visits in a row."""
    return _s(answers, "access") == "refused" and previous_access == "refused"
