"""Fictional sample data for the demo (`sahakum demo load`): what peer educators and a village
chief would send from ODK Collect, as form answers, and the XML Collect would make of them.

Every person, workplace and phone number here is invented. The data is marked: collector
accounts are named ``DEMO-...``, Latin names and workplace names start with ``DEMO``, and the
staff pages show a banner while demo accounts exist. No Flask here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.db.models import Collector, Submission
from server.db.models.cases import Member

DEMO_PREFIX = "DEMO-"
XF = "http://www.w3.org/2002/xforms"
JR = "http://openrosa.org/javarosa"
COMMUNES = "180101 180102"


@dataclass(frozen=True)
class DemoCollector:
    name: str
    role: str
    communes: str


COLLECTORS = (
    DemoCollector("DEMO-PE01", "peer_educator", COMMUNES),
    DemoCollector("DEMO-PE02", "peer_educator", COMMUNES),
    DemoCollector("DEMO-VC01", "village", "180101"),
)


@dataclass
class DemoSubmission:
    form_id: str
    collector: str
    answers: dict[str, Any]
    # The workplace it is about, by (demo) name: visits update that workplace entity, and an
    # intake picks it from the phone's list once an earlier intake has created it.
    workplace: str | None = None
    entity: dict[str, str] = field(default_factory=dict)

    def at_workplace(self, workplace_id: str | None) -> None:
        if self.form_id == "member_intake" and workplace_id is not None:
            for key in ("workplace_new_name", "workplace_new_type"):
                self.answers.pop(key, None)
            self.answers.update(workplace_in_list="yes", workplace=workplace_id)
        elif self.form_id == "workplace_visit":
            self.answers["workplace"] = workplace_id


def demo_loaded(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(Collector.name.like(DEMO_PREFIX + "%")))))


def has_data(session: Session) -> bool:
    """Submissions or members exist: a database in use, not an empty one."""
    return bool(session.scalar(select(exists().where(Submission.id.is_not(None))))
                or session.scalar(select(exists().where(Member.id.is_not(None)))))


def _stamp(day: date, hour: int = 9) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00.000+07:00"


#: The demo's home villages (gazetteer 2025), by code: the names a peer educator types.
_VILLAGE_NAMES = {"18010101": "Phum Muoy", "18010102": "Phum Pir", "18010103": "Phum Bei",
                  "18010201": "Phum Muoy"}


def _intake(day: date, collector_code: str, **person: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": _stamp(day), "today_calc": day.isoformat(), "collector": collector_code,
        "consent": "yes", "consent_referral": "yes", "dob_known": "no", "age_source": "self_report",
        "is_minor": "no", "workplace_in_list": "no", "workplace_new_type": "karaoke",
        "sector": "karaoke", "origin_province": "18", "origin_district": "1801",
        "origin_commune": "180101", "phone_owner": "own", "fl_screen": "none", "health_now": "no",
        "legal_now": "no",
    }
    answers.update(person)
    answers.setdefault("age_years", answers.get("age_stated"))
    return answers


def _visit(day: date, collector_code: str, **over: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "start": _stamp(day, 19), "collector": collector_code, "visit_date": day.isoformat(),
        "workplace_in_list": "yes", "visit_type": "routine", "access": "inside_freely",
        "manager_attitude": "neutral", "n_workers_est": "12", "n_met": "5", "n_members_present": "1",
        "u18_suspected": "no", "fl_seen": "none", "locked_in": "no", "forced_drinking": "no",
        "shift_hours": "8", "days_off": "3_4", "pay_type": "salary", "pe_safety": "safe",
    }
    answers.update(over)
    return answers


def _village(day: date, village: str, households: int, **over: Any) -> dict[str, Any]:
    month = day.replace(day=1)
    answers: dict[str, Any] = {
        "start": _stamp(day, 10), "collector": "V" + village, "reporter_role": "village_chief",
        "period": month.isoformat(), "period_ym": month.strftime("%Y-%m"), "commune": village[:6],
        "village": village, "n_households": str(households), "n_left": "4", "n_left_women_15_24": "2",
        "n_left_under18": "0", "n_left_via_broker": "0", "n_returned": "1", "n_returned_need_help": "0",
        "n_children_working_away": "0", "n_venues": "3", "n_new_venues": "0", "any_concern": "no",
        "n_sessions": "0",
    }
    answers.update(over)
    return answers


def demo_submissions(today: date) -> list[DemoSubmission]:
    """In the order Collect would send them: intakes (which create the workplaces), visits,
    then the village reports. The fifth intake is the second member's again, recorded by another
    peer educator with a typo in the Latin name and no member card: a duplicate pair to review."""
    d = today - timedelta(days=6)
    intakes = [
        ("DEMO-PE01", "DM3K7Q-A", "ចាន់", "សុខា", "DEMO Chan Sokha", "21", "18010101", "0970001234",
         "DEMO Golden Star KTV", None),
        ("DEMO-PE01", "DM8R2T-B", "សុខ", "សុភា", "DEMO Sok Sophea", "24", "18010102", "0970004321",
         "DEMO Golden Star KTV", "ស្រីពៅ"),
        ("DEMO-PE02", "DM5W9N-C", "ម៉ៅ", "ចន្ធូ", "DEMO Mao Chanthou", "19", "18010103", "0970005678",
         "DEMO Moonlight Beer Garden", None),
        ("DEMO-PE02", "DM4H6P-D", "កែវ", "ស្រីនិច", "DEMO Keo Sreynich", "27", "18010201", "0970008765",
         "DEMO Moonlight Beer Garden", None),
        ("DEMO-PE02", None, "សុខ", "សុភា", "DEMO Sok Sopheak", "24", "18010102", "0970004321",
         "DEMO Golden Star KTV", "ស្រីពៅ"),
    ]
    out = []
    for n, (by, code, family, given, latin, age, village, phone, workplace, nickname) in enumerate(intakes):
        # The form asks the home village's name (typed); the server finds its code.
        person = {"family_name_km": family, "given_name_km": given, "name_latin": latin,
                  "age_stated": age, "origin_commune": village[:6],
                  "origin_village_text": _VILLAGE_NAMES[village], "phone": phone,
                  "workplace_new_name": workplace, "member_code": code, "nicknames": nickname}
        answers = _intake(d + timedelta(days=n), "PE" + by[-2:], **{k: v for k, v in person.items() if v})
        out.append(DemoSubmission("member_intake", by, answers, workplace=workplace))
    day = today - timedelta(days=1)
    out += [
        DemoSubmission("workplace_visit", "DEMO-PE01", _visit(day, "PE01"), workplace="DEMO Golden Star KTV"),
        # A girl who looks under 18 at work: an urgent child-protection referral (24-hour target).
        DemoSubmission("workplace_visit", "DEMO-PE02", _visit(today, "PE02", u18_suspected="yes", n_u18="1"),
                       workplace="DEMO Moonlight Beer Garden"),
        # Debt bondage reported: an urgent forced-labour referral.
        DemoSubmission("workplace_visit", "DEMO-PE01", _visit(today, "PE01", fl_seen="debt_bondage"),
                       workplace="DEMO Golden Star KTV"),
        DemoSubmission("village_data", "DEMO-VC01", _village(today, "18010101", 240)),
        DemoSubmission("village_data", "DEMO-VC01", _village(today, "18010102", 185, n_left="7",
                                                             n_left_women_15_24="3")),
    ]
    return out


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def instance_xml(form_xml: bytes, answers: Mapping[str, Any], instance_id: str,
                 entity: Mapping[str, str] | None = None) -> bytes:
    """The form's primary instance with the answers set by field name, as Collect sends it."""
    root = etree.fromstring(form_xml)
    instance = next(iter(root.find(f".//{{{XF}}}instance")))
    doc = copy.deepcopy(instance)
    for el in list(doc.iter()):  # no repeats in the demo answers: drop their templates
        if isinstance(el.tag, str) and el.get(f"{{{JR}}}template") is not None:
            el.getparent().remove(el)
    leaves = {_local(el): el for el in doc.iter() if isinstance(el.tag, str) and len(el) == 0}
    for name, value in answers.items():
        if name not in leaves:
            raise KeyError(f"{name} is not a field of {doc.get('id')}")
        leaves[name].text = str(value)
    meta = next(el for el in doc if _local(el) == "meta")
    next(el for el in meta if _local(el) == "instanceID").text = instance_id
    ent = next((el for el in meta if _local(el) == "entity"), None)
    if ent is not None:
        for key, value in (entity or {}).items():
            ent.set(key, value)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
