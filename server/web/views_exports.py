"""Downloads of the submissions the list shows (`/submissions/export.csv|xlsx`, one form at a
time), with the list's filters and labels in the page language. Thin: ``server.reports.exports``
streams, the same as the JSON API and ``sahakum export``."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, request

from server.accounts import access
from server.api import auth as api_auth
from server.reports import exports
from server.web import i18n, security
from server.web.blueprint import web
from server.web.views_submissions import LIST_ROLES, read_filters

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@web.get("/submissions/export.<fmt>", endpoint="submissions_export")
@security.roles_required(*LIST_ROLES)
def submissions_export(fmt: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    filters, kept = read_filters(request.args)
    if fmt not in ("csv", "xlsx") or not filters.form_id:
        abort(404)
    req = exports.ExportRequest(form_id=filters.form_id, role=staff.role,
                                with_pii=access.pii_access(staff.role).granted,
                                labels=i18n.page_language(), filters=filters)
    lay = exports.export_layout(api_auth.db_session(), req)
    api_auth.audit("export.submissions", "form", [filters.form_id],
                   note=json.dumps(kept | {"format": fmt, "labels": req.labels}, sort_keys=True))
    db = current_app.extensions["sahakum_db"]

    def generate() -> Any:
        with db.sessionmaker() as s:
            yield from (exports.stream_csv(s, req, lay) if fmt == "csv" else exports.stream_xlsx(s, req, lay))

    mime = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIME
    headers = {"Content-Disposition": f'attachment; filename="{filters.form_id}.{fmt}"',
               "Cache-Control": "no-store"}
    return Response(generate(), mimetype=mime, headers=headers)
