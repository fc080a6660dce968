"""Answers a merge could not use, and what staff do about them (issue 9 item 9):

- GET  /submissions/<instance_id>/unfit                     the current version's unfit answers
- POST /submissions/<instance_id>/unfit/<id>/correct {value} put a value that fits; merged again
- POST /submissions/<instance_id>/unfit/<id>/dismiss         leave the answer out for good

Each carries its reason as a code and in English and Khmer. The values are answers (personal
data): in the response only for roles that read answers (admin with a reason), audited.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from server.accounts import access
from server.api import auth
from server.api.rest import staff_blueprint
from server.api.schemas import _dump_only
from server.api.submissions import load_submission
from server.casework import unfit

blp = staff_blueprint("unfit_answers", __name__,
                      "Answers the merge could not use: reasons, corrections, dismissals.")


@_dump_only
class UnfitSchema(ma.Schema):
    id = fields.Integer()
    field = fields.String()
    repeat = fields.String(allow_none=True)
    row = fields.Integer(allow_none=True, metadata={"description": "1-based row of the repeat"})
    value = fields.String(allow_none=True, metadata={"description": "only for roles that read answers"})
    reason = fields.String(metadata={"description": "too_long, not_a_number, number_out_of_range, "
                                     "not_a_date, unknown_choice, bad_code, not_a_location, "
                                     "report_key_missing"})
    explanation_en = fields.String()
    explanation_km = fields.String()
    status = fields.String(metadata={"description": "open, corrected, dismissed, superseded"})
    corrected_value = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class CorrectArgsSchema(ma.Schema):
    value = fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))


def _views(instance_id: str) -> list[unfit.UnfitView]:
    sub = load_submission(instance_id)
    pii = auth.pii_access().granted
    rows = unfit.of_submission(auth.db_session(), sub)
    if pii and rows:
        auth.audit("submission.unfit.read", "submission", [sub.id], auth.stated_reason())
    return [unfit.view(r, pii) for r in rows]


@blp.route("/submissions/<string:instance_id>/unfit")
class UnfitAnswers(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=UnfitSchema(many=True), success=True)
    def get(self, instance_id: str) -> Any:
        """The answers of the current version the merge could not use, with why."""
        return UnfitSchema(many=True).dump(_views(instance_id))


@blp.route("/submissions/<string:instance_id>/unfit/<int:unfit_id>/correct")
class UnfitCorrect(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(CorrectArgsSchema)
    @blp.alt_response(200, schema=UnfitSchema, success=True)
    def post(self, args: dict[str, Any], instance_id: str, unfit_id: int) -> Any:
        """Correct the answer (the value must fit the question); the submission is merged again
        with it at once. Audited."""
        sub = load_submission(instance_id)
        row = unfit.correct(auth.db_session(), auth.current_staff(), sub, unfit_id, args["value"],
                            request_id=auth.request_id())
        return UnfitSchema().dump(unfit.view(row, True))


@blp.route("/submissions/<string:instance_id>/unfit/<int:unfit_id>/dismiss")
class UnfitDismiss(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.alt_response(200, schema=UnfitSchema, success=True)
    def post(self, instance_id: str, unfit_id: int) -> Any:
        """Leave the answer out: the submission stays merged without it. Audited."""
        sub = load_submission(instance_id)
        row = unfit.dismiss(auth.db_session(), auth.current_staff(), sub, unfit_id,
                            request_id=auth.request_id())
        return UnfitSchema().dump(unfit.view(row, True))
