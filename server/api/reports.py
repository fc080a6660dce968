"""The indicator report: GET /api/v1/reports/indicators?period=2026-11[&external=true] as JSON,
CSV or XLSX (``format`` parameter or ``Accept``), and frozen snapshots under
/api/v1/reports/snapshots. Aggregates only: the me role may read them, never the names behind."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from marshmallow import fields

from server import errors
from server.accounts import access
from server.api import auth
from server.api.casework_schemas import StrictBoolean
from server.api.rest import staff_blueprint
from server.db.models import StaffRole
from server.reports import report
from server.reports.periods import PERIOD_PATTERN

blp = staff_blueprint("reports", __name__, "The programme's indicator report and its frozen snapshots.")

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _format() -> str:
    asked = (request.args.get("format") or "").lower()
    if asked:
        if asked not in ("json", "csv", "xlsx"):
            raise errors.ExportFormatUnknown("The format is json, csv or xlsx.")
        return asked
    best = request.accept_mimetypes.best_match(["application/json", CSV_MIME, XLSX_MIME], "application/json")
    return {CSV_MIME: "csv", XLSX_MIME: "xlsx"}.get(best or "", "json")


def render(body: dict[str, Any], fmt: str, name: str) -> Any:
    if fmt == "json":
        return body
    content, mime = (report.render_csv(body), CSV_MIME + "; charset=utf-8") if fmt == "csv" else (
        report.render_xlsx(body), XLSX_MIME)
    return Response(content, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _file_name(body: dict[str, Any]) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(body["period"]))
    return f"indicators-{safe}{'-external' if body['external'] else ''}"


_PERIOD_DOC = {
    "description": "month 2026-11, quarter 2026-Q4, year 2026, or a date range "
    "2026-11-01..2026-11-30 of at most three years",
    "pattern": PERIOD_PATTERN,
}


class IndicatorsQuerySchema(ma.Schema):
    period = fields.String(required=True, metadata=_PERIOD_DOC)
    external = fields.Boolean(load_default=False,
                              metadata={"description": "cells under 5 and child-protection figures as <5"})
    format = fields.String(validate=ma.validate.OneOf(["json", "csv", "xlsx"]),
                           metadata={"description": "or by Accept; default json"})
    lang = fields.String(load_default="en", validate=ma.validate.OneOf(list(report.LANGS)))


class SnapshotArgsSchema(ma.Schema):
    period = fields.String(required=True, metadata=_PERIOD_DOC)
    external = StrictBoolean(load_default=False)
    lang = fields.String(load_default="en", validate=ma.validate.OneOf(list(report.LANGS)))


class SnapshotMetaSchema(ma.Schema):
    id = fields.String()
    period = fields.String()
    external = fields.Boolean()
    sha256 = fields.String()
    created_at = fields.String(metadata={"description": "ISO 8601 date-time"})
    created_by = fields.String()


def _report_doc(status: int, what: str) -> dict[str, Any]:
    """The report as JSON, CSV or XLSX (by `format` or Accept)."""
    return {"responses": {str(status): {"description": what, "content": {
        "application/json": {"schema": {"type": "object"}},
        CSV_MIME: {"schema": {"type": "string"}},
        XLSX_MIME: {"schema": {"type": "string", "format": "binary"}},
    }}}}


@blp.route("/reports/indicators")
class Indicators(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(IndicatorsQuerySchema, location="query")
    @blp.doc(**_report_doc(200, "the report"))
    def get(self, args: dict[str, Any]) -> Any:
        """The 18 indicators for a period (month 2026-11, quarter 2026-Q4, year 2026 or range
        2026-11-01..2026-11-30). `external=true` shows cells under 5 and child-protection
        figures as "<5"."""
        period, external, lang = args["period"], args["external"], args["lang"]
        fmt = _format()
        role = auth.current_staff().role
        body = report.build_report(auth.db_session(), period, external=external,
                                   child_visible=access.sees_restricted_referrals(role), lang=lang)
        auth.audit("report.read", "report", [body["period"]], note=f"external={external} format={fmt}")
        return render(body, fmt, _file_name(body))


@blp.route("/reports/snapshots")
class Snapshots(MethodView):
    @auth.require_roles(StaffRole.ADMIN, StaffRole.ME, StaffRole.CASE, StaffRole.CHILD_PROTECTION)
    @blp.alt_response(200, schema=SnapshotMetaSchema(many=True), success=True)
    def get(self) -> Any:
        """Frozen reports, newest first."""
        return [_snapshot_meta(s) for s in report.list_snapshots(auth.db_session())]

    @auth.require_roles(StaffRole.ADMIN, StaffRole.ME, StaffRole.CASE, StaffRole.CHILD_PROTECTION)
    @blp.arguments(SnapshotArgsSchema)
    @blp.alt_response(201, schema={"type": "object"}, success=True,
                      description="the snapshot's id, period, hash and the frozen report")
    def post(self, args: dict[str, Any]) -> Any:
        """Freeze the report for `period` as it is now."""
        external, lang = args["external"], args["lang"]
        role = auth.current_staff().role
        session = auth.db_session()
        body = report.build_report(session, args["period"], external=external,
                                   child_visible=access.sees_restricted_referrals(role), lang=lang)
        snap = report.freeze(session, body, f"staff:{auth.current_staff().name}")
        note = f"{body['period']} external={external}"
        auth.audit("report.freeze", "report_snapshot", [snap.id], note=note)
        return _snapshot_meta(snap) | {"report": body}, 201


@blp.route("/reports/snapshots/<string:snapshot_id>")
class Snapshot(MethodView):
    @auth.require_roles(StaffRole.ADMIN, StaffRole.ME, StaffRole.CASE, StaffRole.CHILD_PROTECTION)
    @blp.doc(**_report_doc(200, "the frozen report"))
    def get(self, snapshot_id: str) -> Any:
        """A frozen report exactly as it was stored (refused if it no longer matches its hash)."""
        snap, body = report.snapshot_report(auth.db_session(), snapshot_id)
        fmt = _format()
        auth.audit("report.snapshot_read", "report_snapshot", [snap.id], note=f"format={fmt}")
        if fmt != "json":
            return render(body, fmt, _file_name(body) + "-snapshot")
        return _snapshot_meta(snap) | {"report": body}


def _snapshot_meta(snap: Any) -> dict[str, Any]:
    return {"id": str(snap.id), "period": snap.period, "external": snap.external, "sha256": snap.sha256,
            "created_at": snap.created_at.isoformat(), "created_by": snap.created_by}
