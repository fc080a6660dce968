"""One catalogue of domain errors: a stable code, an HTTP status and a message.

The message text is part of the API: Collect shows it to the collector, staff clients show it
to staff. Messages never carry names, phone numbers or free text from a submission.
"""

from __future__ import annotations

import logging
import traceback
from typing import ClassVar


class SahakumError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message: ClassVar[str] = "The request could not be processed."

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.detail_message = message or self.message
        self.details = details
        super().__init__(self.detail_message)


def _error(code: str, status: int, message: str) -> type[SahakumError]:
    return type(
        "".join(part.title() for part in code.replace(".", "_").split("_")) + "Error",
        (SahakumError,),
        {"code": code, "status": status, "message": message},
    )


# --- OpenRosa (Collect) ---------------------------------------------------------------------
OpenRosaVersionMissing = _error(
    "openrosa.version_missing",
    400,
    "This server speaks OpenRosa 1.0: the X-OpenRosa-Version header is missing.",
)
CollectorUnknown = _error(
    "auth.collector_unknown",
    403,
    "This phone's server address is not valid any more. Ask KWCD staff for a new set-up QR code.",
)
FormUnknown = _error("form.unknown", 404, "This form is not on the server. Update your blank forms.")
FormVersionUnknown = _error(
    "form.version_unknown", 404, "This version of the form is not on the server. Update your blank forms."
)
FormNotForCollector = _error(
    "form.not_for_collector", 403, "This form is not for your account. Ask KWCD staff."
)
FormClosed = _error(
    "form.closed",
    409,
    "This form is closed and does not accept new submissions. Ask KWCD staff which form to use.",
)
SubmissionTooLarge = _error(
    "submission.too_large",
    413,
    "The submission is larger than the server accepts. Send it over Wi-Fi in parts.",
)
SubmissionMissingXml = _error(
    "submission.xml_missing", 400, "Required multipart POST field xml_submission_file missing."
)
SubmissionBadMultipart = _error(
    "submission.bad_multipart", 400, "The upload could not be read. Send the form again."
)
SubmissionBadXml = _error(
    "submission.bad_xml", 400, "The submission is not well-formed XML. Send the form again."
)
SubmissionUnsafeXml = _error(
    "submission.unsafe_xml",
    400,
    "The submission contains XML features that are not allowed (DTDs or entities).",
)
SubmissionNoFormId = _error(
    "submission.no_form_id", 400, "The submission does not name its form (missing id attribute)."
)
SubmissionNoInstanceId = _error("submission.no_instance_id", 400, "The submission has no meta/instanceID.")
SubmissionBadInstanceId = _error(
    "submission.bad_instance_id", 400,
    "The submission's meta/instanceID must be 'uuid:' followed by a UUID, as ODK forms write it.",
)
SubmissionConflict = _error(
    "submission.conflict",
    409,
    "A submission already exists with this ID, but with different content. "
    "Resubmissions to attach more files must resend the identical form.",
)
DeprecatedUnknown = _error(
    "submission.deprecated_unknown", 404, "The submission this edit replaces is not on the server."
)
DeprecatedNotCurrent = _error(
    "submission.deprecated_not_current",
    409,
    "The copy you edited is out of date: someone else already changed this submission.",
)

SubmissionBadMethod = _error(
    "submission.bad_request", 400, "This address only accepts form submissions from ODK Collect."
)
ServerFault = _error(
    "server.fault", 500, "The server had a problem. Your form is kept on the phone: send it again later."
)

# --- Collector accounts (CLI) ---------------------------------------------------------------
CollectorAreaMissing = _error(
    "collector.area_missing", 400,
    "A collector account needs its area: give --communes with the 6-digit commune codes.",
)
CollectorCommuneUnknown = _error(
    "collector.commune_unknown", 400,
    "Unknown commune code: use the 6-digit codes of forms/media/communes.csv.",
)
CollectorNameInvalid = _error(
    "collector.name_invalid",
    400,
    "A collector name is 1-100 letters, digits, spaces, dots, dashes or underscores "
    "(an account label such as PE07, not a person's name).",
)
CollectorNameTaken = _error("collector.name_taken", 409, "A collector with this name already exists.")
CollectorNotFound = _error("collector.not_found", 404, "There is no collector with this name.")

# --- Forms (publishing) ---------------------------------------------------------------------
FormVersionNotIncreased = _error(
    "form.version_not_increased",
    409,
    "The form changed but its version did not increase. Raise `version` in the settings sheet.",
)
FormInvalid = _error("form.invalid", 400, "The XLSForm does not compile.")

# --- Staff review (duplicates, merges, conflicts) -------------------------------------------
PairAlreadyDecided = _error(
    "review.pair_decided", 409, "This pair was already decided. Reload the review queue."
)
VisitPairAlreadyDecided = _error(
    "review.visit_pair_decided", 409, "These two visits were already decided. Reload the list."
)
CorrectionAlreadyDecided = _error(
    "review.correction_decided", 409, "This village report is not waiting for a decision. Reload the list."
)
MergeNotAllowed = _error(
    "review.merge_not_allowed", 409, "These records cannot be merged (one is already merged)."
)
MergeAlreadyUndone = _error("review.merge_undone", 409, "This merge was already undone.")
UnmergeBlocked = _error(
    "review.unmerge_blocked", 409, "A later merge involves this record. Undo the later merge first."
)

# --- Case work: submission review and referrals ------------------------------------------
ReviewStateInvalid = _error(
    "review.state_invalid", 422, "Staff can set a submission to has_issues, approved or rejected."
)
ReviewNoteRequired = _error(
    "review.note_required", 422, "Say why in a note when you reject a submission or mark it as having issues."
)
NoteTooLong = _error("note.too_long", 422, "The note is too long (at most 2,000 characters).")
ReasonTooLong = _error("note.reason_too_long", 422, "The note is too long (at most 500 characters).")
NoteEmpty = _error("note.empty", 422, "The note is empty.")
UnfitValueInvalid = _error(
    "unfit.value_invalid", 422, "The corrected value does not fit this question either."
)
UnfitAlreadyResolved = _error(
    "unfit.resolved", 409, "Someone already corrected or dismissed this answer."
)
BulkTooLarge = _error(
    "review.bulk_too_large", 422,
    "Too many submissions match this filter for one review (at most 10,000). Narrow the filter.",
)
ReferralTransitionInvalid = _error(
    "referral.transition_invalid", 409,
    "This referral cannot make that step from its current status. Reload the referral.",
)
ReferralOutcomeInvalid = _error(
    "referral.outcome_invalid", 422, "This outcome is not one of the known outcomes."
)
ReferralServiceUnknown = _error(
    "referral.service_unknown", 422, "This service is not in the list of referral services."
)
ReferralAssigneeInvalid = _error(
    "referral.assignee_invalid", 422,
    "This staff account cannot take this referral (it is revoked, or its role may not see the case).",
)

# --- Staff API ------------------------------------------------------------------------------
StaffUnauthenticated = _error("auth.unauthenticated", 401, "A valid staff token is required.")
StaffForbidden = _error("auth.forbidden", 403, "Your role does not allow this.")
NotFound = _error("not_found", 404, "Not found.")
PreconditionFailed = _error(
    "precondition_failed", 412, "The record changed since you read it. Reload and try again."
)
PreconditionRequired = _error(
    "precondition_required", 428, "Send the record's ETag in an If-Match header with this change."
)
RequestInvalid = _error("request.invalid", 422, "The request parameters are not valid.")
RequestBad = _error("request.bad", 400, "The request could not be read.")
MethodNotAllowed = _error("method_not_allowed", 405, "This address does not accept this method.")
InternalError = _error("internal_error", 500, "The server had a problem. Try again later.")
StaffNameInvalid = _error(
    "staff.name_invalid",
    400,
    "A staff account name is 1-100 letters, digits, spaces, dots, dashes or underscores.",
)
StaffNameTaken = _error("staff.name_taken", 409, "A staff account with this name already exists.")
StaffNotFound = _error("staff.not_found", 404, "There is no staff account with this name.")
PasswordTooShort = _error(
    "staff.password_too_short", 422, "A password has at least 12 characters."
)
PasswordTooLong = _error("staff.password_too_long", 422, "A password has at most 1024 characters.")

# --- Reporting: imports, indicator report, exports -------------------------------------------
ImportUnknownKind = _error("import.unknown_kind", 404, "There is no import of this kind.")
ImportBadFile = _error("import.bad_file", 400, "The file cannot be read as a CSV or XLSX table.")
ImportInvalid = _error(
    "import.invalid", 422, "Some rows have errors: nothing was stored. Correct them and upload again."
)
ImportAlreadyUndone = _error("import.undone", 409, "This import was already undone.")
ImportUndoBlocked = _error(
    "import.undo_blocked", 409, "Later records refer to rows of this import. Undo those first."
)
ReportPeriodInvalid = _error(
    "report.period_invalid",
    422,
    "The period is a month (2026-11), a quarter (2026-Q4), a year (2026) "
    "or a date range (2026-11-01..2026-11-30).",
)
SnapshotCorrupt = _error(
    "report.snapshot_corrupt", 409, "This snapshot no longer matches its SHA-256: it was changed."
)
ExportFormatUnknown = _error("export.format_unknown", 422, "The format is csv or xlsx.")


def log_bug(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log an unexpected exception by type and stack frames only.

    Exception messages can quote submitted values (SQLAlchemy prints bound parameters), and
    URLs carry collector tokens: neither may reach a log (design.md safety checklist)."""
    frames = "\n".join(
        f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__)
    )
    logger.error("%s failed with %s\n%s", what, type(exc).__name__, frames)
