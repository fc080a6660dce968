"""Staff-facing words for the columns of the staff records (entry forms, import previews and
their errors). The column's own name is shown beside them: it is what the CSV template uses."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

COLUMN_LABELS: dict[str, Any] = {
    "amount": _l("Amount"),
    "anonymous_headcount": _l("Anonymous headcount"),
    "book_number": _l("Savings book number"),
    "business_start_date": _l("Business start date"),
    "case_code": _l("Case code"),
    "category": _l("Category"),
    "channel": _l("Channel"),
    "commune_code": _l("Commune code"),
    "communes": _l("Communes"),
    "course_code": _l("Course code"),
    "currency": _l("Currency"),
    "date": _l("Date"),
    "district_code": _l("District code"),
    "facilitator": _l("Facilitator"),
    "facilitator_pe_code": _l("Facilitator (peer educator code)"),
    "formed_date": _l("Date formed"),
    "gatekeeper_code": _l("Gatekeeper code"),
    "grant_source": _l("Grant source"),
    "group_code": _l("Group code"),
    "holder_type": _l("Holder type"),
    "issued_date": _l("Date issued"),
    "item": _l("Item"),
    "joined_date": _l("Date joined"),
    "kind": _l("Kind"),
    "leader_member_code": _l("Leader (member code)"),
    "left_date": _l("Date left"),
    "meeting_code": _l("Meeting code"),
    "meeting_type": _l("Meeting type"),
    "member_code": _l("Member code"),
    "name": _l("Name"),
    "name_km": _l("Name in Khmer"),
    "name_latin": _l("Name in Latin letters"),
    "organisation_name": _l("Organisation name"),
    "organisation_type": _l("Organisation type"),
    "outcome": _l("Outcome"),
    "pe_code": _l("Peer educator code"),
    "phone": _l("Phone"),
    "place": _l("Place"),
    "planned_end_date": _l("Planned end date"),
    "position": _l("Position"),
    "priority": _l("Priority"),
    "quantity": _l("Quantity"),
    "recipient_type": _l("Recipient type"),
    "recorded_by": _l("Recorded by"),
    "report_group": _l("Report group"),
    "reporter_type": _l("Reporter type"),
    "sensitised_date": _l("Date sensitised"),
    "session_code": _l("Session code"),
    "start_date": _l("Start date"),
    "status": _l("Status"),
    "support_type": _l("Support type"),
    "target_group": _l("Target group"),
    "title": _l("Title"),
    "topic": _l("Topic"),
    "trained_date": _l("Date trained"),
    "village_code": _l("Village code"),
    "workplace_code": _l("Workplace code"),
}


def column_label(name: str | None) -> str:
    """The column's words in the page language; a column without any keeps its name."""
    if not name:
        return ""
    label = COLUMN_LABELS.get(name)
    return str(label) if label is not None else name


TEMPLATE_GLOBALS = {"column_label": column_label}
