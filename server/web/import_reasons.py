"""Import and entry errors in the page's language.

The importer (server.reports) gives each bad cell an English reason, which the API returns as it
is (with the row and column) and the command line prints. The web pages show the reason in the
reader's language: the fixed reasons by their text, those with a number, a list or a record type
in them by their pattern. A reason not known here is shown in English (marked lang="en").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

FIXED = {
    "This column is missing from the first row.": _l("This column is missing from the first row."),
    "This column is not part of the template.": _l("This column is not part of the template."),
    "This cell is empty; it is required.": _l("This cell is empty; it is required."),
    "This code is already in the database.": _l("This code is already in the database."),
    "A code is 1-32 letters, digits, dots, dashes or underscores.":
        _l("A code is 1-32 letters, digits, dots, dashes or underscores."),
    "Not a date: write it as 2026-11-03 or 3/11/2026.":
        _l("Not a date: write it as 2026-11-03 or 3/11/2026."),
    "Expected a whole number, 0 or more.": _l("Expected a whole number, 0 or more."),
    "Expected an amount such as 20000 or 2.50.": _l("Expected an amount such as 20000 or 2.50."),
    "The amount must be more than 0.": _l("The amount must be more than 0."),
    "Not a Cambodian phone number (9 or 10 digits starting with 0).":
        _l("Not a Cambodian phone number (9 or 10 digits starting with 0)."),
    "This person is already recorded at this session.":
        _l("This person is already recorded at this session."),
    "This person is already recorded at this meeting.":
        _l("This person is already recorded at this meeting."),
    "The quantity must be 1 or more.": _l("The quantity must be 1 or more."),
    "Give exactly one of member_code, pe_code or gatekeeper_code.":
        _l("Give exactly one of member_code, pe_code or gatekeeper_code."),
    "She cannot leave before she joined.": _l("She cannot leave before she joined."),
    "She is already a member of this group.": _l("She is already a member of this group."),
    "A book is held by a member, a peer_educator or a gatekeeper.":
        _l("A book is held by a member, a peer_educator or a gatekeeper."),
    "Leave this empty: the book has one holder.": _l("Leave this empty: the book has one holder."),
    "This date is before the book was issued.": _l("This date is before the book was issued."),
    "A completed apprenticeship needs an outcome (or 'unknown').":
        _l("A completed apprenticeship needs an outcome (or 'unknown')."),
    "Give exactly one of member_code or case_code.": _l("Give exactly one of member_code or case_code."),
    "An amount needs its currency (KHR or USD).": _l("An amount needs its currency (KHR or USD)."),
    "No case has this code.": _l("No case has this code."),
}

# "No {what} has this code." (server.reports.cells.ref): one sentence per record type, so that
# each reads naturally in Khmer.
NO_RECORD = {
    "member": _l("No member has this code."),
    "session": _l("No session has this code."),
    "course": _l("No course has this code."),
    "meeting": _l("No meeting has this code."),
    "workplace": _l("No workplace has this code."),
    "savings book": _l("No savings book has this code."),
    "savings group": _l("No savings group has this code."),
    "peer educator": _l("No peer educator has this code."),
    "gatekeeper": _l("No gatekeeper has this code."),
}


def _no_record(m: re.Match[str]) -> str | None:
    text = NO_RECORD.get(m["what"])
    return str(text) if text is not None else None


PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = [
    (re.compile(r"No (?P<what>[a-z ]+) has this code\."), _no_record),
    (re.compile(r"The same value is already in row (?P<row>\d+)\."),
     lambda m: _("The same value is already in row %(row)s.", row=m["row"])),
    (re.compile(r"Longer than (?P<n>\d+) characters\."),
     lambda m: _("Longer than %(n)s characters.", n=m["n"])),
    (re.compile(r"Expected a (?P<n>\d+)-digit gazetteer code\."),
     lambda m: _("Expected a %(n)s-digit gazetteer code.", n=m["n"])),
    (re.compile(r"Must be one of: (?P<values>.+)\."),
     lambda m: _("Must be one of: %(values)s.", values=m["values"])),
    (re.compile(r"This cell is required when holder_type is (?P<holder>\w+)\."),
     lambda m: _("This cell is required when holder_type is %(holder)s.", holder=m["holder"])),
]


def import_reason(reason: str) -> str:
    """`reason` in the page's language (the English text when it is not a known reason)."""
    fixed = FIXED.get(reason)
    if fixed is not None:
        return str(fixed)
    for pattern, render in PATTERNS:
        m = pattern.fullmatch(reason)
        if m is not None:
            return render(m) or reason
    return reason


TEMPLATE_GLOBALS = {"import_reason": import_reason}
