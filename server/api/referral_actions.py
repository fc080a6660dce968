"""Referral case management, each with the referral's ETag in If-Match (two case workers cannot
overwrite each other: 412; without it: 428):

- POST /referrals/<id>/acknowledge {note}
- POST /referrals/<id>/refer {referred_to, note}
- POST /referrals/<id>/close {outcome, outcome_by, note}
- POST /referrals/<id>/reopen {note}
- POST /referrals/<id>/assign {assignee, note}
- POST /referrals/<id>/notes {text}  (no If-Match: notes never overwrite)
- GET  /referrals/<id>/assignees, GET /referral-services, GET /workqueue
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from server import errors
from server.accounts import access
from server.api import auth
from server.api import casework_schemas as cs
from server.api.referrals import load_referral, referral_case
from server.api.rest import staff_blueprint
from server.casework import queries, referrals, workqueue
from server.db.models import StaffUser

blp = staff_blueprint("referral_actions", __name__, "Referral case management and the work queue.")


def _acted(referral: Any) -> Any:
    return referral_case(referral), 200, {"ETag": referrals.etag(referral)}


def _guarded(referral_id: str) -> Any:
    referral = load_referral(referral_id)
    auth.check_if_match(referrals.etag(referral))
    return referral


_ETAG_HEADERS = {"ETag": {"schema": {"type": "string"}}}


@blp.route("/referrals/<string:referral_id>/acknowledge")
class Acknowledge(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.NoteArgsSchema, required=False)
    @blp.alt_response(200, schema=cs.ReferralCaseSchema, success=True, headers=_ETAG_HEADERS)
    def post(self, args: dict[str, Any], referral_id: str) -> Any:
        """new -> acknowledged: staff have triaged the case (stops the 24-hour clock)."""
        referral = _guarded(referral_id)
        referrals.acknowledge(auth.db_session(), auth.current_staff(), referral, args.get("note"),
                              request_id=auth.request_id())
        return _acted(referral)


@blp.route("/referrals/<string:referral_id>/refer")
class Refer(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.ReferArgsSchema)
    @blp.alt_response(200, schema=cs.ReferralCaseSchema, success=True, headers=_ETAG_HEADERS)
    def post(self, args: dict[str, Any], referral_id: str) -> Any:
        """acknowledged -> referred to a service (a code from GET /referral-services)."""
        referral = _guarded(referral_id)
        referrals.refer(auth.db_session(), auth.current_staff(), referral, args["referred_to"],
                        args.get("note"), request_id=auth.request_id())
        return _acted(referral)


@blp.route("/referrals/<string:referral_id>/close")
class Close(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.CloseArgsSchema)
    @blp.alt_response(200, schema=cs.ReferralCaseSchema, success=True, headers=_ETAG_HEADERS)
    def post(self, args: dict[str, Any], referral_id: str) -> Any:
        """-> closed with an `outcome`; service outcomes record the service that gave it
        (`outcome_by`, default the one referred to)."""
        referral = _guarded(referral_id)
        referrals.close(auth.db_session(), auth.current_staff(), referral, args["outcome"],
                        args.get("outcome_by"), args.get("note"), request_id=auth.request_id())
        return _acted(referral)


@blp.route("/referrals/<string:referral_id>/reopen")
class Reopen(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.NoteArgsSchema, required=False)
    @blp.alt_response(200, schema=cs.ReferralCaseSchema, success=True, headers=_ETAG_HEADERS)
    def post(self, args: dict[str, Any], referral_id: str) -> Any:
        """closed -> acknowledged (the outcome is cleared; the history keeps it)."""
        referral = _guarded(referral_id)
        referrals.reopen(auth.db_session(), auth.current_staff(), referral, args.get("note"),
                         request_id=auth.request_id())
        return _acted(referral)


@blp.route("/referrals/<string:referral_id>/assign")
class Assign(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.AssignArgsSchema)
    @blp.alt_response(200, schema=cs.ReferralCaseSchema, success=True, headers=_ETAG_HEADERS)
    def post(self, args: dict[str, Any], referral_id: str) -> Any:
        """Assign to a case worker who may see the case (`assignee`: account name; null unassigns)."""
        session = auth.db_session()
        referral = _guarded(referral_id)
        assignee = None
        if args.get("assignee"):
            assignee = session.scalar(select(StaffUser).where(StaffUser.name == args["assignee"]))
            if assignee is None:
                raise errors.ReferralAssigneeInvalid()
        referrals.assign(session, auth.current_staff(), referral, assignee, args.get("note"),
                         request_id=auth.request_id())
        return _acted(referral)


@blp.route("/referrals/<string:referral_id>/notes")
class Notes(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.arguments(cs.NoteTextSchema)
    @blp.alt_response(201, schema=cs.ReferralCaseSchema, success=True)
    def post(self, args: dict[str, Any], referral_id: str) -> Any:
        """Add a note to the case history (no names of others)."""
        referral = load_referral(referral_id)
        referrals.add_note(auth.db_session(), auth.current_staff(), referral, args["text"],
                           request_id=auth.request_id())
        return referral_case(referral), 201


@blp.route("/referrals/<string:referral_id>/assignees")
class Assignees(MethodView):
    @auth.require_roles(*access.CASE_ROLES)
    @blp.alt_response(200, schema=cs.StaffChoiceSchema(many=True), success=True)
    def get(self, referral_id: str) -> Any:
        """Staff accounts this referral can be assigned to."""
        referral = load_referral(referral_id)
        users = queries.staff_choices(auth.db_session(), referral)
        return cs.StaffChoiceSchema(many=True).dump([{"name": u.name, "role": u.role.value} for u in users])


@blp.route("/referral-services")
class Services(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=cs.ServiceSchema(many=True), success=True)
    def get(self) -> Any:
        """Where cases can be referred (codes for `referred_to` and `outcome_by`)."""
        return cs.ServiceSchema(many=True).dump(referrals.services(auth.db_session()))


@blp.route("/workqueue")
class WorkQueueResource(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.alt_response(200, schema=cs.WorkQueueSchema, success=True)
    def get(self) -> Any:
        """What waits for action, counted as this role may see it (no names)."""
        return cs.WorkQueueSchema().dump(workqueue.work_queue(auth.db_session(), auth.current_staff().role))
