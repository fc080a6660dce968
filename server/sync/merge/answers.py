"""Reading a submission's answers: XML bytes -> a flat answers dict and its entity metadata.

Pure (no database): the merge reads every form through this one reader, with the same safe
parser and helpers as intake's :mod:`server.sync.parse` (which reads only the identity
fields it must check before storing).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from lxml import etree

from server.sync.parse import as_uuid, local_name, safe_parser

XF = "http://www.w3.org/2002/xforms"

#: Repeats of the programme's forms, used when the form XML cannot be read.
KNOWN_REPEATS = frozenset({"new_venue", "case_alert"})


class UnreadableAnswers(ValueError):
    """The stored XML cannot be read as answers. The message is a short code."""


@dataclass(frozen=True)
class EntityMeta:
    """``meta/entity`` of a submission (protocol.md 3.2)."""

    dataset: str
    entity_id: uuid.UUID | None
    create: bool
    update: bool
    base_version: int | None
    trunk_version: int | None
    branch_id: str | None
    label: str | None


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_date(value: str | None) -> date | None:
    """The date part of an ISO date or datetime answer; None when it is not one."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true"}


@lru_cache(maxsize=64)
def repeat_names(form_xml: bytes) -> frozenset[str]:
    """Names of the repeat groups of a form (its XForm XML), plus the programme's own."""
    try:
        root = etree.fromstring(form_xml, parser=safe_parser())
    except etree.XMLSyntaxError:
        return KNOWN_REPEATS
    names = {
        (el.get("nodeset") or "").rstrip("/").rsplit("/", 1)[-1]
        for el in root.iter(f"{{{XF}}}repeat")
    }
    return frozenset(n for n in names if n) | KNOWN_REPEATS


def _entity(el: etree._Element) -> EntityMeta:
    label_el = next((c for c in el if local_name(c.tag) == "label"), None)
    label = (label_el.text or "").strip() or None if label_el is not None else None
    return EntityMeta(
        dataset=el.get("dataset") or "",
        entity_id=as_uuid(el.get("id")),
        create=_truthy(el.get("create")),
        update=_truthy(el.get("update")),
        base_version=int_or_none(el.get("baseVersion")),
        trunk_version=int_or_none(el.get("trunkVersion")),
        branch_id=(el.get("branchId") or None),
        label=label,
    )


class _Reader:
    def __init__(self, repeats: frozenset[str]) -> None:
        self.repeats = repeats
        self.entity: EntityMeta | None = None

    def meta(self, el: etree._Element, out: dict[str, Any]) -> None:
        for m in el:
            name = local_name(m.tag)
            if name == "entity":
                self.entity = _entity(m)
            elif name in {"instanceID", "deprecatedID"}:
                out[name] = (m.text or "").strip()

    def walk(self, el: etree._Element, out: dict[str, Any]) -> None:
        for child in el:
            name = local_name(child.tag)
            if not name:
                continue
            if name == "meta":
                self.meta(child, out)
            elif name in self.repeats:
                row: dict[str, Any] = {}
                self.walk(child, row)
                out.setdefault(name, []).append(row)
            elif len(child):
                self.walk(child, out)
            else:
                out[name] = (child.text or "").strip()


def read_answers(
    xml: bytes, repeats: frozenset[str] = KNOWN_REPEATS
) -> tuple[dict[str, Any], EntityMeta | None]:
    """Submission XML -> (flat answers, entity metadata). Groups are flattened (field names are
    unique in an XLSForm); repeats become lists of flat dicts; ``meta`` is skipped except the
    instance ids, kept as ``instanceID`` and ``deprecatedID``. Raises UnreadableAnswers."""
    try:
        root = etree.fromstring(xml, parser=safe_parser())
    except etree.XMLSyntaxError:
        raise UnreadableAnswers("xml_unreadable") from None
    if root.getroottree().docinfo.doctype:
        raise UnreadableAnswers("xml_doctype")
    reader = _Reader(repeats)
    answers: dict[str, Any] = {}
    reader.walk(root, answers)
    return answers, reader.entity


def _report_month(answers: Mapping[str, Any]) -> date | None:
    """The first day of the month a village report covers (``period_ym``, else ``period``)."""
    for name in ("period_ym", "period"):
        v = answers.get(name)
        d = parse_date(f"{v[:7]}-01") if isinstance(v, str) and len(v) >= 7 else None
        if d:
            return d
    return None


def event_date(answers: Mapping[str, Any], received: date) -> date:
    """Event time comes from the form (the month a village report covers, visit date, today,
    start), not from receipt (issue 9 item 7: a report sent in March about January is dated
    January, and so are its referrals)."""
    month = _report_month(answers)
    if month is not None:
        return month
    for name in ("visit_date", "today", "today_calc", "start", "end"):
        v = answers.get(name)
        d = parse_date(v) if isinstance(v, str) else None
        if d:
            return d
    return received
