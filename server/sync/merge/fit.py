"""Does each answer fit what the form asks and the case database holds? (issue 9 item 9)

A modified or broken client can send a value Collect would never write: text longer than a
field holds, a word where a number or a date belongs, a choice code the form does not have, a
list code in the wrong shape, a location that is not one. Such a value must never make the
merge fail forever. The merge reads every answer through :func:`check_answers`, which keeps
the values that fit and takes out the others, each with a reason staff can read; the merge
then runs on the valid parts and the reasons are stored for correction
(:mod:`server.sync.merge.explained`).

What fits is read from the published form itself (its binds and choice lists, see
:func:`form_shape`), plus the sizes of the columns the merge writes (:data:`TEXT_LIMITS`) and
the shape of the codes in the lists served as CSV (:data:`LIST_CODES`). Pure: no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from lxml import etree

from server.sync.parse import local_name, safe_parser

XF = "http://www.w3.org/2002/xforms"
H = "http://www.w3.org/1999/xhtml"

#: Longest text any answer may be: free text is limited to 200 characters by the forms
#: (domain.md 1.5 rule 1) and by the columns that hold it.
DEFAULT_TEXT_LIMIT = 200
#: Answers written to narrower columns (server/db/models).
TEXT_LIMITS: dict[str, int] = {"collector": 32, "member_code": 16, "savings_group": 64}
#: Largest number the case database stores (a 32-bit integer column).
MAX_INT = 2**31 - 1
#: The shape of the codes of the lists served as CSV media (server/sync/lists.py,
#: server/sync/area_lists.py). Unknown lists: a short code of plain characters.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
LIST_CODES: dict[str, re.Pattern[str]] = {
    "provinces": re.compile(r"\d{2}"),
    "districts": re.compile(r"\d{4}"),
    "communes": re.compile(r"\d{6}"),
    "area_communes": re.compile(r"\d{6}"),
    "villages": re.compile(r"\d{8}|unk-\d{6}"),
    "area_villages": re.compile(r"\d{8}|unk-\d{6}"),
    "workplaces": re.compile(_UUID),
    "members": re.compile(_UUID),
    "collectors": re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}"),
}
_OTHER_LIST_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: How much of a value that does not fit is kept for staff (the whole stays in the stored XML).
KEPT_CHARS = 1000

#: reason code -> (English, Khmer) explanation staff read beside the value.
REASONS: dict[str, tuple[str, str]] = {
    "too_long": (
        "The answer is longer than this question can hold ({limit} characters).",
        "ចម្លើយវែងជាងអ្វីដែលសំណួរនេះអាចទទួលបាន ({limit} តួអក្សរ)។",
    ),
    "not_a_number": (
        "This question takes a whole number, and the answer is not one.",
        "សំណួរនេះត្រូវការចំនួនគត់ ប៉ុន្តែចម្លើយមិនមែនជាចំនួនគត់ទេ។",
    ),
    "number_out_of_range": (
        "The number is below zero or too large to be a count or an age.",
        "លេខនេះតិចជាងសូន្យ ឬធំពេកសម្រាប់ជាចំនួន ឬអាយុ។",
    ),
    "not_a_date": (
        "This question takes a date (year-month-day), and the answer is not a real date.",
        "សំណួរនេះត្រូវការកាលបរិច្ឆេទ (ឆ្នាំ-ខែ-ថ្ងៃ) ប៉ុន្តែចម្លើយមិនមែនជាកាលបរិច្ឆេទពិតទេ។",
    ),
    "unknown_choice": (
        "The answer is not one of this question's choices (an old or changed form may have sent it).",
        "ចម្លើយនេះមិនមែនជាជម្រើសណាមួយរបស់សំណួរនេះទេ (ទម្រង់ចាស់ ឬទម្រង់ដែលគេកែប្រែ អាចបានផ្ញើវា)។",
    ),
    "bad_code": (
        "The answer should be a code from the phone's list (village, commune, workplace, member "
        "or account), and it is not in that form.",
        "ចម្លើយត្រូវតែជាលេខកូដពីបញ្ជីក្នុងទូរស័ព្ទ (ភូមិ ឃុំ កន្លែងធ្វើការ សមាជិក ឬគណនី) "
        "ប៉ុន្តែវាមិនមែនជាលេខកូដបែបនោះទេ។",
    ),
    "not_a_location": (
        "The answer should be a GPS location (latitude and longitude), and it is not one.",
        "ចម្លើយត្រូវតែជាទីតាំង GPS (រយៈទទឹង និងរយៈបណ្តោយ) ប៉ុន្តែវាមិនមែនជាទីតាំងទេ។",
    ),
    "report_key_missing": (
        "The village or the month this report is about is missing or unusable, so the report "
        "could not be filed. Enter the right value here.",
        "ភូមិ ឬខែដែលរបាយការណ៍នេះនិយាយអំពី បាត់ ឬប្រើមិនបាន ដូច្នេះរបាយការណ៍មិនអាចដាក់ចូលបានទេ។ "
        "សូមបញ្ចូលតម្លៃត្រឹមត្រូវនៅទីនេះ។",
    ),
}


def explain(reason: str, limit: int | None, lang: str = "en") -> str:
    """The explanation of a reason in English or Khmer (``km``)."""
    en, km = REASONS.get(reason, (reason, reason))
    text = km if lang == "km" else en
    return text.replace("{limit}", str(limit or DEFAULT_TEXT_LIMIT))


@dataclass(frozen=True)
class Rule:
    """What one question accepts."""

    kind: str  # text, int, decimal, date, datetime, geopoint, choice, list
    multiple: bool = False
    choices: frozenset[str] = frozenset()
    list_name: str = ""
    calculated: bool = False


@dataclass(frozen=True)
class Unfit:
    """One answer that does not fit: ``row`` is the 1-based repeat row, None outside repeats."""

    field: str
    value: str
    reason: str
    row: int | None = None
    repeat: str | None = None
    limit: int | None = None


@dataclass
class Checked:
    answers: dict[str, Any]
    unfit: list[Unfit] = field(default_factory=list)


_TYPES = {"int": "int", "decimal": "decimal", "date": "date", "dateTime": "datetime",
          "geopoint": "geopoint"}


def _inline_choices(model: etree._Element) -> dict[str, frozenset[str]]:
    """Choice lists pyxform writes as secondary instances in the form (no ``src``)."""
    out: dict[str, frozenset[str]] = {}
    for inst in model.iter(f"{{{XF}}}instance"):
        name = inst.get("id")
        if not name or inst.get("src"):
            continue
        out[name] = frozenset((n.text or "").strip() for n in inst.iter(f"{{{XF}}}name"))
    return out


def _select_rule(control: etree._Element, lists: dict[str, frozenset[str]]) -> Rule:
    multiple = local_name(control.tag) == "select"
    itemset = control.find(f"{{{XF}}}itemset")
    if itemset is None:
        values = frozenset((v.text or "").strip() for v in control.iter(f"{{{XF}}}value"))
        return Rule("choice", multiple, values)
    m = re.match(r"instance\('([^']+)'\)", itemset.get("nodeset") or "")
    name = m.group(1) if m else ""
    if name in lists:
        return Rule("choice", multiple, lists[name])
    return Rule("list", multiple, list_name=name)


@lru_cache(maxsize=32)
def form_shape(form_xml: bytes) -> dict[str, Rule]:
    """Field name -> what it accepts, read from a compiled XForm. Field names are unique in an
    XLSForm, and the merge reads answers by name (:mod:`.answers`)."""
    try:
        root = etree.fromstring(form_xml, parser=safe_parser())
    except etree.XMLSyntaxError:
        return {}
    model = next(root.iter(f"{{{XF}}}model"), None)
    if model is None:
        return {}
    lists = _inline_choices(model)
    shape: dict[str, Rule] = {}
    for bind in model.iter(f"{{{XF}}}bind"):
        name = (bind.get("nodeset") or "").rsplit("/", 1)[-1]
        if not name or name.startswith("@") or "/meta/" in (bind.get("nodeset") or ""):
            continue
        kind = _TYPES.get(bind.get("type") or "", "text")
        shape[name] = Rule(kind, calculated=bind.get("calculate") is not None)
    body = next(root.iter(f"{{{H}}}body"), None)
    for control in body.iter(f"{{{XF}}}select1", f"{{{XF}}}select") if body is not None else ():
        name = (control.get("ref") or "").rsplit("/", 1)[-1]
        if name in shape:
            shape[name] = _select_rule(control, lists)
    return shape


def _number_reason(value: str, kind: str) -> str | None:
    try:
        number = int(value) if kind == "int" else float(value)
    except ValueError:
        return "not_a_number"
    if isinstance(number, float) and not math.isfinite(number):
        return "not_a_number"
    return "number_out_of_range" if number < 0 or number > MAX_INT else None


def _date_reason(value: str, kind: str) -> str | None:
    try:
        day = (datetime.fromisoformat(value).date() if kind == "datetime"
               else date.fromisoformat(value[:10]))
    except ValueError:
        return "not_a_date"
    if kind == "date" and len(value) > 10 and value[10] != "T":
        return "not_a_date"
    return None if 1900 <= day.year <= 2100 else "not_a_date"


def _location_reason(value: str) -> str | None:
    parts = value.split()
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return "not_a_location"
    if not 2 <= len(numbers) <= 4 or not all(math.isfinite(n) for n in numbers):
        return "not_a_location"
    return None if abs(numbers[0]) <= 90 and abs(numbers[1]) <= 180 else "not_a_location"


def _code_reason(value: str, rule: Rule) -> str | None:
    tokens = value.split() if rule.multiple else [value]
    if rule.kind == "choice":
        return None if all(t in rule.choices for t in tokens) else "unknown_choice"
    pattern = LIST_CODES.get(rule.list_name, _OTHER_LIST_CODE)
    if rule.list_name == "collectors":
        tokens = [value]  # an account name may hold a space
    return None if all(pattern.fullmatch(t) for t in tokens) else "bad_code"


def _calculated_reason(value: str) -> str | None:
    """A calculate is recomputed by the server for rules, but some are read as numbers (age):
    a number that no column can hold does not fit."""
    try:
        number = float(value)
    except ValueError:
        return None
    return "number_out_of_range" if not math.isfinite(number) or abs(number) > MAX_INT else None


def reason_for(name: str, value: str, rule: Rule | None) -> tuple[str, int | None] | None:
    """Why ``value`` does not fit question ``name`` (reason, limit), or None when it fits."""
    limit = TEXT_LIMITS.get(name, DEFAULT_TEXT_LIMIT)
    if rule is None:
        # Not a question of this form version: the merge may still read it by name (an older
        # version's field), so it gets the checks of a calculate.
        rule = Rule("text", calculated=True)
    if rule.kind in ("choice", "list"):
        if len(value) > KEPT_CHARS:
            return "unknown_choice" if rule.kind == "choice" else "bad_code", None
        found = _code_reason(value, rule)
    elif rule.kind in ("int", "decimal"):
        found = _number_reason(value, rule.kind)
    elif rule.kind in ("date", "datetime"):
        found = _date_reason(value, rule.kind)
    elif rule.kind == "geopoint":
        found = _location_reason(value)
    else:
        found = _calculated_reason(value) if rule.calculated else None
        if found is None and len(value) > limit:
            return "too_long", limit
    return (found, None) if found else None


_SKIPPED = frozenset({"instanceID", "deprecatedID"})


def _check_flat(
    shape: Mapping[str, Rule], answers: Mapping[str, Any], out: dict[str, Any], unfit: list[Unfit],
    repeat: str | None = None, row: int | None = None,
) -> None:
    for name, value in answers.items():
        if isinstance(value, list):
            rows = []
            for i, item in enumerate(value, start=1):
                kept: dict[str, Any] = {}
                _check_flat(shape, item if isinstance(item, dict) else {}, kept, unfit, name, i)
                rows.append(kept)
            out[name] = rows
            continue
        if len(name) > 64:
            continue  # no form has such a name: nothing reads it, nothing to explain
        text = value.strip() if isinstance(value, str) else ""
        found = None if not text or name in _SKIPPED else reason_for(name, text, shape.get(name))
        if found is None:
            out[name] = value
            continue
        unfit.append(Unfit(name, text[:KEPT_CHARS], found[0], row, repeat, found[1]))


def check_answers(shape: Mapping[str, Rule], answers: Mapping[str, Any]) -> Checked:
    """The answers that fit (an unfit one is left out, as if unanswered) and the unfit ones."""
    checked = Checked({})
    _check_flat(shape, answers, checked.answers, checked.unfit)
    return checked


def with_corrections(
    answers: Mapping[str, Any], corrections: Mapping[tuple[str, str | None, int | None], str]
) -> dict[str, Any]:
    """Answers with staff corrections put in place of the values that did not fit:
    ``(field, repeat, row) -> value`` (an empty value: the answer is left out)."""
    out = dict(answers)
    for (name, repeat, row), value in corrections.items():
        if repeat is None or row is None:
            out[name] = value
            continue
        rows = [dict(r) for r in out.get(repeat) or []]
        if 1 <= row <= len(rows):
            rows[row - 1][name] = value
            out[repeat] = rows
    return out
