"""Staff-facing words for the codes of case work (review states, referral statuses, categories,
outcomes, history entries), per language. Registered as template globals of the web pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from server.db.models import ReferralEventKind, ReviewState, SubmissionState
from server.db.models.cases import Priority, ReferralCategory, ReferralStatus

REVIEW_STATE_LABELS: dict[str, Any] = {
    ReviewState.RECEIVED: _l("Received"),
    ReviewState.EDITED: _l("Edited"),
    ReviewState.HAS_ISSUES: _l("Has issues"),
    ReviewState.APPROVED: _l("Approved"),
    ReviewState.REJECTED: _l("Rejected"),
}
MERGE_STATE_LABELS: dict[str, Any] = {
    SubmissionState.RECEIVED: _l("Waiting to be merged"),
    SubmissionState.STORED_ENCRYPTED: _l("Stored, not decrypted"),
    SubmissionState.MERGED: _l("Merged"),
    SubmissionState.MERGE_FAILED: _l("Merge failed"),
}
REFERRAL_STATUS_LABELS: dict[str, Any] = {
    ReferralStatus.NEW: _l("New"),
    ReferralStatus.ACKNOWLEDGED: _l("Acknowledged"),
    ReferralStatus.REFERRED: _l("Referred"),
    ReferralStatus.CLOSED: _l("Closed"),
}
CATEGORY_LABELS: dict[str, Any] = {
    ReferralCategory.CHILD_PROTECTION: _l("Child protection"),
    ReferralCategory.FORCED_LABOUR: _l("Forced labour"),
    ReferralCategory.TRAFFICKING: _l("Trafficking"),
    ReferralCategory.ABUSE_VIOLENCE: _l("Abuse or violence"),
    ReferralCategory.HEALTH: _l("Health"),
    ReferralCategory.LEGAL: _l("Legal"),
    ReferralCategory.LIVELIHOOD: _l("Livelihood"),
    ReferralCategory.PE_SECURITY: _l("Peer educator's safety"),
    ReferralCategory.OTHER: _l("Other"),
}
PRIORITY_LABELS: dict[str, Any] = {Priority.URGENT: _l("Urgent"), Priority.NORMAL: _l("Normal")}
OUTCOME_LABELS: dict[str, Any] = {
    "service_received": _l("Service received"),
    "service_not_received": _l("Referred, service not received"),
    "declined": _l("Declined help"),
    "not_substantiated": _l("Not substantiated"),
    "lost_contact": _l("Lost contact"),
    "moved": _l("Moved away"),
}
EVENT_LABELS: dict[str, Any] = {
    ReferralEventKind.ACKNOWLEDGED: _l("Acknowledged"),
    ReferralEventKind.REFERRED: _l("Referred"),
    ReferralEventKind.CLOSED: _l("Closed"),
    ReferralEventKind.REOPENED: _l("Reopened"),
    ReferralEventKind.ASSIGNED: _l("Assigned"),
    ReferralEventKind.UNASSIGNED: _l("Unassigned"),
    ReferralEventKind.NOTE: _l("Note"),
}
FEED_LABELS: dict[str, Any] = {
    "received": _l("Received from the phone"),
    "edited": _l("Edited on the phone and sent again"),
    "review": _l("Review"),
    "comment": _l("Comment"),
}
FORM_LABELS: dict[str, Any] = {
    "member_intake": _l("Member intake"),
    "workplace_visit": _l("Workplace visit"),
    "village_data": _l("Village data"),
}


def _lookup(table: dict[str, Any]) -> Any:
    def label(code: Any) -> str:
        return "" if code is None else str(table.get(str(code), code))

    return label


TEMPLATE_GLOBALS = {
    "review_state_label": _lookup(REVIEW_STATE_LABELS),
    "merge_state_label": _lookup(MERGE_STATE_LABELS),
    "referral_status_label": _lookup(REFERRAL_STATUS_LABELS),
    "category_label": _lookup(CATEGORY_LABELS),
    "priority_label": _lookup(PRIORITY_LABELS),
    "outcome_label": _lookup(OUTCOME_LABELS),
    "event_label": _lookup(EVENT_LABELS),
    "feed_label": _lookup(FEED_LABELS),
    "form_label": _lookup(FORM_LABELS),
}

# Messages for the refusals of case-work actions, shown on the page in its language.
ERROR_TEXTS: dict[str, Any] = {
    "review.state_invalid": _l("Choose one of: has issues, approved, rejected."),
    "review.note_required": _l("Say why in a note when you reject a submission or mark it as having issues."),
    "note.too_long": _l("The note is too long (at most 2,000 characters)."),
    "note.empty": _l("The note is empty."),
    "unfit.value_invalid": _l("The corrected value does not fit this question either."),
    "unfit.resolved": _l("Someone already corrected or dismissed this answer."),
    "review.bulk_too_large": _l("Too many submissions match this filter for one review (at most 10,000). "
                                "Narrow the filter."),
    "referral.transition_invalid": _l("This case cannot make that step from its current status."),
    "referral.outcome_invalid": _l("Choose one of the outcomes in the list."),
    "referral.service_unknown": _l("Choose a service from the list (for a service outcome, the service "
                                   "that gave it)."),
    "referral.assignee_invalid": _l("This person cannot take this case (their role may not see it)."),
    "review.visit_pair_decided": _l("These two visits were already decided. Reload the list."),
    "review.correction_decided": _l("This village report is not waiting for a decision. Reload the list."),
    "precondition_failed": _l("The record changed since you opened it. Reload and try again."),
    "note.reason_too_long": _l("The note is too long (at most 500 characters)."),
}


def error_text(code: str, default: str) -> str:
    return str(ERROR_TEXTS.get(code, default))
