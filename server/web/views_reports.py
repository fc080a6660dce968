"""The indicator report on the web (`/reports/indicators`), its CSV/XLSX downloads, freezing it
as a snapshot and showing a snapshot again. Thin: ``server.reports.report`` does the work, the
same functions as the JSON API and the command line."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import errors
from server.accounts import access
from server.api import auth as api_auth
from server.reports import report
from server.web import i18n, security
from server.web.blueprint import menu_item, web

menu_item("web.report", _l("Indicator report"))

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _build(period: str, external: bool) -> dict[str, Any]:
    staff = security.current_staff()
    assert staff is not None  # roles_required
    return report.build_report(api_auth.db_session(), period, external=external,
                               child_visible=access.sees_restricted_referrals(staff.role),
                               lang=i18n.page_language())


def _external() -> bool:
    return request.values.get("external") in ("1", "true", "on")


@web.get("/reports/indicators", endpoint="report")
@security.roles_required(*access.ALL_ROLES)
def indicators() -> Any:
    period = (request.args.get("period") or "").strip()
    body, problem = None, None
    if period:
        try:
            body = _build(period, _external())
        except errors.ReportPeriodInvalid:
            problem = _("Write the period as a month (2026-11), a quarter (2026-Q4), a year (2026) "
                        "or two dates (2026-11-01..2026-11-30).")
        else:
            api_auth.audit("report.read", "report", [body["period"]], note=f"web external={_external()}")
    return render_template("reports/indicators.html", period=period, external=_external(), report=body,
                           problem=problem, snapshots=report.list_snapshots(api_auth.db_session(), 20))


@web.get("/reports/indicators/download.<fmt>")
@security.roles_required(*access.ALL_ROLES)
def indicators_download(fmt: str) -> Any:
    if fmt not in ("csv", "xlsx"):
        raise errors.NotFound()
    body = _build(request.args.get("period", ""), _external())
    api_auth.audit("report.read", "report", [body["period"]], note=f"web external={_external()} format={fmt}")
    return _file(body, fmt, "")


def _file(body: dict[str, Any], fmt: str, suffix: str) -> Response:
    content = report.render_csv(body) if fmt == "csv" else report.render_xlsx(body)
    mime = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIME
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(body["period"]))
    name = f"indicators-{safe}{'-external' if body['external'] else ''}{suffix}.{fmt}"
    return Response(content, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@web.post("/reports/snapshots", endpoint="report_freeze")
@security.roles_required(*access.ALL_ROLES)
def freeze() -> Any:
    body = _build(request.form.get("period", ""), _external())
    staff = security.current_staff()
    assert staff is not None
    snap = report.freeze(api_auth.db_session(), body, f"staff:{staff.name}")
    api_auth.audit("report.freeze", "report_snapshot", [snap.id], note=f"{body['period']} web")
    return redirect(url_for("web.report_snapshot", snapshot_id=snap.id))


@web.get("/reports/snapshots/<snapshot_id>", endpoint="report_snapshot")
@security.roles_required(*access.ALL_ROLES)
def snapshot(snapshot_id: str) -> Any:
    snap, body = report.snapshot_report(api_auth.db_session(), snapshot_id)
    api_auth.audit("report.snapshot_read", "report_snapshot", [snap.id], note="web")
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        return _file(body, fmt, "-snapshot")
    return render_template("reports/snapshot.html", snap=snap, report=body)
