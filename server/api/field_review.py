"""Possible duplicate visits and village-report corrections (issue 9 items 6 and 7):

- GET /api/v1/visit-duplicates[/<id>], POST .../<id>/same and .../<id>/different
- GET /api/v1/village-reports[/<id>], POST .../<id>/accept and .../<id>/reject

Decisions carry the record's ETag in If-Match (412 when it changed, 428 when missing) and are
audited by ``server.casework`` (the web pages call the same functions). Case roles only: they
decide what counts. Nothing here shows a name or free text.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth
from server.api.field_review_schemas import (
    DecisionNoteSchema,
    VillageReportQuerySchema,
    VillageReportSchema,
    VisitPairQuerySchema,
    VisitPairSchema,
)
from server.api.rest import PAGE, ErrorSchema, page_of, staff_blueprint
from server.casework import village_reports, visit_duplicates
from server.db.models import PossibleDuplicateVisit, VillageReport
from server.db.models.field_duplicates import HELD

blp = staff_blueprint("field_review", __name__,
                      "Possible duplicate visits and village-report corrections for staff to decide.")

_PAIR = VisitPairSchema()
_REPORT = VillageReportSchema()


def _if_match() -> str:
    sent = request.headers.get("If-Match")
    if not sent:
        raise errors.PreconditionRequired()
    return sent


def _documents_if_match(func: Any) -> Any:
    func = blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": True,
                                "schema": {"type": "string"}, "description": "the record's ETag"}])(func)
    func = blp.alt_response(409, schema=ErrorSchema, description="Already decided")(func)
    func = blp.alt_response(412, schema=ErrorSchema, description="The record changed: reload it")(func)
    return blp.alt_response(428, schema=ErrorSchema, description="If-Match is missing")(func)


# --- possible duplicate visits ----------------------------------------------------------------
def pair_view(pair: PossibleDuplicateVisit) -> dict[str, Any]:
    first, second = visit_duplicates.sides(auth.db_session(), pair)

    def side(s: visit_duplicates.VisitSide) -> dict[str, Any]:
        v = s.visit
        return {"visit_id": v.id, "submission_id": v.submission_id, "workplace_id": v.workplace_id,
                "workplace_code": s.workplace_code, "pe_code": v.pe_code, "visit_date": v.visit_date,
                "received_at": s.received_at, "values": s.values}

    return _PAIR.dump({
        "id": pair.id, "status": pair.status.value, "counted_once": pair.status in HELD,
        "workplace_id": pair.workplace_id, "pe_code": pair.pe_code, "visit_date": pair.visit_date,
        "row_version": pair.row_version, "etag": visit_duplicates.etag(pair),
        "decided_at": pair.decided_at, "created_at": pair.created_at,
        "first": side(first), "second": side(second),
    })


def _load_pair(pair_id: str) -> PossibleDuplicateVisit:
    pair = visit_duplicates.get_pair(auth.db_session(), pair_id)
    if pair is None:
        raise errors.NotFound("There is no possible duplicate visit with this id.")
    return pair


@blp.route("/visit-duplicates")
class VisitDuplicates(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(VisitPairQuerySchema, location="query")
    @blp.alt_response(200, schema=VisitPairSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """Possible duplicate visits (default: pending): the same workplace, collector and day
        under two instanceIDs. While pending, the second visit is not counted."""
        page = page_of(pagination_parameters)
        rows, total = visit_duplicates.list_pairs(auth.db_session(), status=args.get("status", "pending"),
                                                  offset=page.offset, limit=page.limit)
        pagination_parameters.item_count = total
        return [pair_view(p) for p in rows]


@blp.route("/visit-duplicates/<string:pair_id>")
class VisitDuplicate(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.alt_response(200, schema=VisitPairSchema, success=True,
                      headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, pair_id: str) -> Any:
        """One possible duplicate visit; its ETag goes into If-Match of same or different."""
        pair = _load_pair(pair_id)
        return pair_view(pair), 200, {"ETag": visit_duplicates.etag(pair)}


def _decide_visits(pair_id: str, args: dict[str, Any], same: bool) -> Any:
    pair = _load_pair(pair_id)
    sent = _if_match()
    visit_duplicates.decide(auth.db_session(), auth.current_staff(), pair, same,
                            note=args.get("note") or auth.stated_reason(), sent_etag=sent,
                            request_id=auth.request_id())
    return pair_view(pair), 200, {"ETag": visit_duplicates.etag(pair)}


@blp.route("/visit-duplicates/<string:pair_id>/same")
class VisitDuplicateSame(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(DecisionNoteSchema, required=False)
    @blp.alt_response(200, schema=VisitPairSchema, success=True)
    @_documents_if_match
    def post(self, args: dict[str, Any], pair_id: str) -> Any:
        """"Same visit, count once": the second visit stays out of every count."""
        return _decide_visits(pair_id, args, True)


@blp.route("/visit-duplicates/<string:pair_id>/different")
class VisitDuplicateDifferent(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(DecisionNoteSchema, required=False)
    @blp.alt_response(200, schema=VisitPairSchema, success=True)
    @_documents_if_match
    def post(self, args: dict[str, Any], pair_id: str) -> Any:
        """"Two different visits": both count."""
        return _decide_visits(pair_id, args, False)


# --- village reports --------------------------------------------------------------------------
def report_view(report: VillageReport) -> dict[str, Any]:
    session = auth.db_session()
    corrects = (session.get(VillageReport, report.correction_of_id)
                if report.correction_of_id is not None else None)
    return _REPORT.dump({
        **{c.key: getattr(report, c.key) for c in VillageReport.__table__.columns},
        "status": report.status.value, "etag": village_reports.etag(report), "corrects": corrects,
        "history": village_reports.history(session, report),
    })


def _load_report(report_id: str) -> VillageReport:
    report = village_reports.get_report(auth.db_session(), report_id)
    if report is None:
        raise errors.NotFound("There is no village report with this id.")
    return report


@blp.route("/village-reports")
class VillageReports(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(VillageReportQuerySchema, location="query")
    @blp.alt_response(200, schema=VillageReportSchema(many=True), success=True)
    @blp.paginate(**PAGE)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        """Village reports (default: corrections waiting for staff), by month covered."""
        page = page_of(pagination_parameters)
        rows, total = village_reports.list_reports(
            auth.db_session(), status=args.get("status", "correction_pending"),
            offset=page.offset, limit=page.limit)
        pagination_parameters.item_count = total
        return [report_view(r) for r in rows]


@blp.route("/village-reports/<string:report_id>")
class VillageReportDetail(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.alt_response(200, schema=VillageReportSchema, success=True,
                      headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, report_id: str) -> Any:
        """One village report with the report it would correct and the history of its month."""
        report = _load_report(report_id)
        return report_view(report), 200, {"ETag": village_reports.etag(report)}


def _decide_report(report_id: str, args: dict[str, Any], accept: bool) -> Any:
    report = _load_report(report_id)
    sent = _if_match()
    decide = village_reports.accept_correction if accept else village_reports.reject_correction
    decide(auth.db_session(), auth.current_staff(), report, note=args.get("note") or auth.stated_reason(),
           sent_etag=sent, request_id=auth.request_id())
    return report_view(report), 200, {"ETag": village_reports.etag(report)}


@blp.route("/village-reports/<string:report_id>/accept")
class VillageReportAccept(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(DecisionNoteSchema, required=False)
    @blp.alt_response(200, schema=VillageReportSchema, success=True)
    @_documents_if_match
    def post(self, args: dict[str, Any], report_id: str) -> Any:
        """Accept the correction: its figures replace the accepted report's for the month (the
        earlier report is kept, superseded). No referral is closed or opened."""
        return _decide_report(report_id, args, True)


@blp.route("/village-reports/<string:report_id>/reject")
class VillageReportReject(MethodView):
    @auth.require_roles(*access.REVIEW_ROLES)
    @blp.arguments(DecisionNoteSchema, required=False)
    @blp.alt_response(200, schema=VillageReportSchema, success=True)
    @_documents_if_match
    def post(self, args: dict[str, Any], report_id: str) -> Any:
        """Reject the correction (a resend or a wrong report): the accepted report stays."""
        return _decide_report(report_id, args, False)
