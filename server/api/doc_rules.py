"""What the OpenAPI document says beyond one field at a time, so that a client (and schemathesis,
run by the test suite with every check) can tell a request the server accepts from one it
refuses: URL converters that keep two routes of one shape apart, and rules across fields.

marshmallow describes fields one by one; the cross-field rules of the review endpoints are
added to their component schemas here, next to the code that enforces them
(server/casework/submission_review.py, server/api/casework_schemas.py).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter

from server.casework.submission_review import NOTE_REQUIRED, STAFF_STATES

# Text that is not empty once stripped: at least one character that is neither NUL (refused
# everywhere, server/api/http_policy.py) nor whitespace as Python's str.strip() sees it.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
VISIBLE_TEXT = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"


class InstanceIdConverter(BaseConverter):
    """An instanceID in a URL path: any segment but `review`, which names the bulk review
    (POST /submissions/review); otherwise that URL would also match GET /submissions/<id>
    and its Allow header would list GET."""

    regex = r"(?!review$)[^/]+"
    part_isolating = True  # one path segment (werkzeug would guess otherwise from the "/")


INSTANCE_ID_PARAM = {"type": "string", "pattern": r"^[^\x00]*$", "not": {"enum": ["review"]}}


def _note_rule() -> dict[str, Any]:
    """has_issues and rejected need a note with some text; approved does not."""
    optional = sorted(s.value for s in STAFF_STATES if s not in NOTE_REQUIRED)
    return {
        "anyOf": [
            {"properties": {"state": {"enum": optional}}},
            {"required": ["note"], "properties": {"note": {"pattern": VISIBLE_TEXT}}},
        ]
    }


def document_rules(components: dict[str, Any]) -> None:
    """Add the cross-field rules to the registered component schemas (by their names)."""
    components["ReviewArgs"].update(_note_rule())
    components["BulkReviewArgs"]["allOf"] = [
        _note_rule(),
        # Exactly one of the two: the selection, or a filter (both is refused too).
        {"oneOf": [{"required": ["instance_ids"]}, {"required": ["filter"]}]},
    ]
