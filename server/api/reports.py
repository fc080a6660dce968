"""The indicator report: GET /api/v1/reports/indicators?period=2026-11[&external=true] as JSON,
CSV or XLSX (``format`` parameter or ``Accept``), and frozen snapshots under
/api/v1/reports/snapshots. Aggregates only: the me role may read them, never the names behind."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from server import errors
from server.accounts import access
from server.api import auth
from server.api.rest import staff_blueprint
from server.db.models import StaffRole
from server.reports import report

blp = staff_blueprint("reports", __name__, "The programme's indicator report and its frozen snapshots.")

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TRUE = {"1", "true", "yes", "on"}


def _format() -> str:
    asked = (request.args.get("format") or "").lower()
    if asked:
        if asked not in ("json", "csv", "xlsx"):
            raise errors.ExportFormatUnknown("The format is json, csv or xlsx.")
        return asked
    best = request.accept_mimetypes.best_match(["application/json", CSV_MIME, XLSX_MIME], "application/json")
    return {CSV_MIME: "csv", XLSX_MIME: "xlsx"}.get(best or "", "json")


def _lang() -> str:
    lang = (request.args.get("lang") or "en").lower()
    if lang not in report.LANGS:
        raise errors.RequestInvalid("The language is en or km.")
    return lang


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


@blp.route("/reports/indicators")
class Indicators(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    def get(self) -> Any:
        """The 18 indicators for a period (month 2026-11, quarter 2026-Q4, year 2026 or range
        2026-11-01..2026-11-30). `external=true` shows cells under 5 and child-protection
        figures as "<5"."""
        period = request.args.get("period", "")
        external = (request.args.get("external") or "").lower() in _TRUE
        fmt, lang = _format(), _lang()
        role = auth.current_staff().role
        body = report.build_report(auth.db_session(), period, external=external,
                                   child_visible=access.sees_restricted_referrals(role), lang=lang)
        auth.audit("report.read", "report", [body["period"]], note=f"external={external} format={fmt}")
        return render(body, fmt, _file_name(body))


@blp.route("/reports/snapshots")
class Snapshots(MethodView):
    @auth.require_roles(StaffRole.ADMIN, StaffRole.ME, StaffRole.CASE, StaffRole.CHILD_PROTECTION)
    def get(self) -> Any:
        """Frozen reports, newest first."""
        return [_snapshot_meta(s) for s in report.list_snapshots(auth.db_session())]

    @auth.require_roles(StaffRole.ADMIN, StaffRole.ME, StaffRole.CASE, StaffRole.CHILD_PROTECTION)
    def post(self) -> Any:
        """Freeze the report for `period` (JSON body or form: period, external, lang) as it is now."""
        data = request.get_json(silent=True) or request.form
        external = str(data.get("external", "")).lower() in _TRUE
        lang = str(data.get("lang") or "en")
        if lang not in report.LANGS:
            raise errors.RequestInvalid("The language is en or km.")
        role = auth.current_staff().role
        session = auth.db_session()
        body = report.build_report(session, str(data.get("period", "")), external=external,
                                   child_visible=access.sees_restricted_referrals(role), lang=lang)
        snap = report.freeze(session, body, f"staff:{auth.current_staff().name}")
        note = f"{body['period']} external={external}"
        auth.audit("report.freeze", "report_snapshot", [snap.id], note=note)
        return _snapshot_meta(snap) | {"report": body}, 201


@blp.route("/reports/snapshots/<string:snapshot_id>")
class Snapshot(MethodView):
    @auth.require_roles(StaffRole.ADMIN, StaffRole.ME, StaffRole.CASE, StaffRole.CHILD_PROTECTION)
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
