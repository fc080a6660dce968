"""GET /api/v1/exports/submissions/<form_id>?format=csv|xlsx: a form's submissions, streamed.

Filters are those of the submission list (collector, commune, event dates, review state, alerts,
merge state); ``labels`` is codes, en or km; ``table`` names a repeat to download its rows
instead of the main table (joined by ``submission_key``; XLSX: that one sheet instead of all).
Personal data only for the roles that may read it; every export is audited with its filter."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from marshmallow import fields

from server.accounts import access
from server.api import auth
from server.api.casework_schemas import SubmissionFilterSchema
from server.api.rest import staff_blueprint
from server.api.submissions import to_filter
from server.reports import case_exports, exports

blp = staff_blueprint("exports", __name__, "Exports of submissions (CSV with BOM, or XLSX), streamed.")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuerySchema(SubmissionFilterSchema):
    format = fields.String(load_default="csv", validate=ma.validate.OneOf(["csv", "xlsx"]))
    labels = fields.String(load_default="codes", validate=ma.validate.OneOf(list(exports.LABELS)))
    table = fields.String(validate=ma.validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"))


@blp.route("/exports/submissions/<string:form_id>")
class SubmissionExport(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(ExportQuerySchema, location="query")
    def get(self, args: dict[str, Any], form_id: str) -> Any:
        """Stream the form's submissions as CSV (one table) or XLSX (a sheet per table); `table`
        picks one repeat's rows instead."""
        staff = auth.current_staff()
        fmt, table = args["format"], args.get("table")
        req = exports.ExportRequest(form_id=form_id, role=staff.role, with_pii=auth.pii_access().granted,
                                    labels=args["labels"], filters=to_filter(args))
        session = auth.db_session()
        lay = exports.export_layout(session, req)
        exports.check_table(lay, table)
        described = {k: str(v) for k, v in args.items() if v is not None}
        auth.audit("export.submissions", "form", [form_id], note=json.dumps(described, sort_keys=True))
        db = current_app.extensions["sahakum_db"]

        def generate() -> Any:
            # The request's session is committed and closed before the body streams: own one.
            with db.sessionmaker() as s:
                if fmt == "csv":
                    yield from exports.stream_csv(s, req, lay, table)
                else:
                    yield from exports.stream_xlsx(s, req, lay, table)

        name = f"{form_id}{'-' + table if table else ''}.{fmt}"
        mime = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIME
        return Response(generate(), mimetype=mime,
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})




class CaseExportQuerySchema(ma.Schema):
    format = fields.String(load_default="csv", validate=ma.validate.OneOf(["csv", "xlsx"]))


@blp.route("/exports/cases/<string:table>")
class CaseExport(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    @blp.arguments(CaseExportQuerySchema, location="query")
    def get(self, args: dict[str, Any], table: str) -> Any:
        """Stream a case table (members, workplaces, referrals, visits) as CSV or XLSX: codes and
        statuses for every role; names, dates of birth and origin only with personal-data access."""
        staff = auth.current_staff()
        with_pii = auth.pii_access().granted
        case_exports.query(table, staff.role, with_pii)  # 404 now, not after a 200
        auth.audit("export.cases", "case_table", [table], note=json.dumps({"format": args["format"]}))
        db = current_app.extensions["sahakum_db"]
        fmt, role = args["format"], staff.role

        def generate() -> Any:
            with db.sessionmaker() as s:
                yield from case_exports.stream(s, table, role, with_pii, fmt)

        mime = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIME
        return Response(generate(), mimetype=mime,
                        headers={"Content-Disposition": f'attachment; filename="{table}.{fmt}"',
                                 "Cache-Control": "no-store"})
