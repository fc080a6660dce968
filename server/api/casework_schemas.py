"""Marshmallow schemas for case work: submission answers, review, comments, feed, referral actions.

Free text written by staff (notes, comments) and answers are personal data: they are dumped only
by views that checked ``access.pii_access`` and audited the read.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from server.api.doc_rules import VISIBLE_TEXT
from server.api.schemas import ReferralSchema, SubmissionSchema, _choice, _dump_only
from server.casework.referrals import OUTCOMES
from server.casework.submission_review import MAX_NOTE, STAFF_STATES
from server.db.models import ReviewState, SubmissionState
from server.db.models.cases import Priority, ReferralCategory, ReferralStatus

S = ma.Schema
_NOTE = {"validate": ma.validate.Length(max=MAX_NOTE), "metadata": {"description": "Free text (no names)"}}


# --- query arguments --------------------------------------------------------------------------
class SubmissionFilterSchema(S):
    form = fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,100}$"),
                         metadata={"description": "xml form id, e.g. workplace_visit"})
    collector = fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9 ._-]{1,100}$"),
                              metadata={"description": "collector account or the form's collector code"})
    commune = fields.String(validate=ma.validate.Regexp(r"^\d{6}$"))
    event_from = fields.Date(metadata={"description": "event date (from the form) on or after"})
    event_to = fields.Date(metadata={"description": "event date on or before"})
    review_state = _choice(ReviewState)
    has_alert = fields.Boolean(metadata={"description": "raised or joined a referral"})
    state = _choice(SubmissionState)
    to_correct = fields.Boolean(metadata={"description": "has answers the merge could not use, "
                                          "waiting for staff (GET .../unfit)"})


class StrictBoolean(fields.Boolean):
    """A JSON true or false in a request body (marshmallow's Boolean also takes 0, 1 and "yes",
    which the document, saying boolean, does not allow)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonSubmissionFilterSchema(SubmissionFilterSchema):
    """The list filter inside a JSON body (the bulk review): booleans are JSON booleans."""

    has_alert = StrictBoolean(metadata={"description": "raised or joined a referral"})


class LangSchema(S):
    lang = fields.String(load_default="km", validate=ma.validate.OneOf(["km", "en"]))


class AnswersQuerySchema(LangSchema):
    version = fields.String(validate=ma.validate.Length(max=255),
                            metadata={"description": "instanceID of an earlier version"})


class ReviewArgsSchema(S):
    state = fields.String(required=True, validate=ma.validate.OneOf([s.value for s in STAFF_STATES]))
    note = fields.String(**_NOTE)


class BulkReviewArgsSchema(ReviewArgsSchema):
    instance_ids = fields.List(fields.String(validate=ma.validate.Length(max=255)),
                               validate=ma.validate.Length(min=1, max=1000),
                               metadata={"description": "the selected submissions"})
    filter = fields.Nested(JsonSubmissionFilterSchema,
                           metadata={"description": "or: every submission matching this filter"})

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_kw: Any) -> None:
        if ("instance_ids" in data) == ("filter" in data):
            raise ma.ValidationError("Give either instance_ids or filter.", "instance_ids")


class CommentArgsSchema(S):
    # A comment needs some text (only spaces is refused as empty); the pattern says so.
    text = fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_NOTE),
                         metadata={"description": "Free text (no names)", "pattern": VISIBLE_TEXT})


class ReferralFilterSchema(S):
    category = _choice(ReferralCategory)
    status = _choice(ReferralStatus)
    priority = _choice(Priority)
    assigned_to = fields.String(validate=ma.validate.Length(max=100),
                                metadata={"description": "staff account name, or `me`"})
    overdue = fields.Boolean(metadata={"description": "urgent, new and older than 24 hours"})


class NoteArgsSchema(S):
    note = fields.String(**_NOTE)


class ReferArgsSchema(NoteArgsSchema):
    referred_to = fields.String(required=True, validate=ma.validate.Length(max=32),
                                metadata={"description": "a code from GET /referral-services"})


class CloseArgsSchema(NoteArgsSchema):
    outcome = fields.String(required=True, validate=ma.validate.OneOf(OUTCOMES))
    outcome_by = fields.String(validate=ma.validate.Length(max=32), metadata={
        "description": "the service that gave it (default: the one referred to)"})


class AssignArgsSchema(NoteArgsSchema):
    assignee = fields.String(required=True, allow_none=True, validate=ma.validate.Length(max=100),
                             metadata={"description": "staff account name; null to unassign"})


class NoteTextSchema(S):
    text = fields.String(required=True, **_NOTE)


# --- responses --------------------------------------------------------------------------------
@_dump_only
class AnswerSchema(S):
    kind = fields.String(metadata={"description": "field, group or repeat"})
    name = fields.String()
    path = fields.String()
    label = fields.String(allow_none=True, metadata={"description": "the form's label in the language"})
    value = fields.String(allow_none=True, metadata={"description": "the raw answer (codes)"})
    value_label = fields.String(allow_none=True, metadata={"description": "choice labels in the language"})
    type = fields.String()
    media = fields.String(allow_none=True, metadata={"description": "attachment file name"})
    children = fields.List(fields.Nested(lambda: AnswerSchema()))
    rows = fields.List(fields.List(fields.Nested(lambda: AnswerSchema())))


@_dump_only
class AnswersSchema(S):
    instance_id = fields.String()
    lang = fields.String()
    answers = fields.List(fields.Nested(AnswerSchema))


@_dump_only
class SubmissionRowSchema(SubmissionSchema):
    collector = fields.String(allow_none=True, metadata={"description": "account that sent it"})
    collector_code = fields.String(allow_none=True, metadata={"description": "who filled it in"})
    event_date = fields.Date(allow_none=True)
    commune = fields.String(allow_none=True)
    has_alert = fields.Boolean()


@_dump_only
class ReviewResultSchema(S):
    reviewed = fields.Integer()
    review_state = fields.String(allow_none=True)
    etag = fields.String(allow_none=True)


@_dump_only
class CommentSchema(S):
    actor = fields.String()
    text = fields.String()
    at = fields.DateTime()


@_dump_only
class FieldChangeSchema(S):
    path = fields.String()
    label = fields.String(allow_none=True)
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)
    old_label = fields.String(allow_none=True)
    new_label = fields.String(allow_none=True)


@_dump_only
class FeedEntrySchema(S):
    kind = fields.String(metadata={"description": "received, edited, review or comment"})
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    previous_state = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    changes = fields.List(fields.Nested(FieldChangeSchema))


@_dump_only
class TimingSchema(S):
    age_hours = fields.Float()
    target_hours = fields.Integer(allow_none=True)
    hours_to_acknowledge = fields.Float(allow_none=True)
    overdue = fields.Boolean()


@_dump_only
class ReferralRowSchema(ReferralSchema):
    assigned_to = fields.String(allow_none=True)
    outcome_by = fields.String(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    referred_at = fields.DateTime(allow_none=True)
    timing = fields.Nested(TimingSchema)
    etag = fields.String()


@_dump_only
class ReferralSourceSchema(S):
    instance_id = fields.String()
    form = fields.String(attribute="form_id")
    alert_key = fields.String()
    triggers = fields.List(fields.String())
    active = fields.Boolean()
    event_date = fields.Date(allow_none=True)
    reporter_code = fields.String(allow_none=True, metadata={
        "description": "who reported (only for roles that see personal data; audited)"})


@_dump_only
class ReferralEventSchema(S):
    id = fields.Integer()
    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    detail = fields.Dict()
    actor = fields.String()
    at = fields.DateTime()


@_dump_only
class ReferralCaseSchema(ReferralRowSchema):
    sources = fields.List(fields.Nested(ReferralSourceSchema))
    history = fields.List(fields.Nested(ReferralEventSchema))
    next_steps = fields.List(fields.String())
    pii_included = fields.Boolean()


@_dump_only
class ServiceSchema(S):
    code = fields.String()
    kind = fields.String()
    name_km = fields.String()
    name_en = fields.String()


@_dump_only
class StaffChoiceSchema(S):
    name = fields.String()
    role = fields.String()


@_dump_only
class WorkQueueSchema(S):
    urgent_referrals_new = fields.Integer()
    urgent_referrals_overdue = fields.Integer()
    referrals_open = fields.Integer()
    submissions_to_review = fields.Integer()
    duplicate_pairs_pending = fields.Integer()
    visit_duplicates_pending = fields.Integer()
    village_corrections_pending = fields.Integer()
    merges_failed = fields.Integer()
    answers_to_correct = fields.Integer(metadata={"description": "submissions merged without some "
                                                  "answers that did not fit, waiting for staff"})
