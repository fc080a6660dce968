"""Imports of staff records (CSV or XLSX): POST /api/v1/imports/<kind> (dry_run=true previews),
GET /api/v1/imports/<kind>/template, DELETE /api/v1/imports/<batch_id> (undo), GET /imports.

The rows are checked and stored by server.reports.importing; this module only reads the upload,
checks the role, audits and shapes the reply."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from sqlalchemy import select

from server import errors
from server.accounts import access
from server.api import auth
from server.api.rest import staff_blueprint
from server.db.models import ImportBatch
from server.reports.import_kinds import KINDS, Kind
from server.reports.importing import run_import, undo_batch

blp = staff_blueprint("imports", __name__, "Imports of staff activity records from CSV or XLSX.")

MAX_IMPORT_BYTES = 10 * 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}


def _kind_for(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise errors.ImportUnknownKind()
    if not access.can_enter_records(auth.current_staff().role, kind.name):
        raise errors.StaffForbidden()
    return kind


def _upload() -> bytes:
    if (request.content_length or 0) > MAX_IMPORT_BYTES:
        raise errors.ImportBadFile(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    upload = request.files.get("file")
    if upload is None:
        raise errors.RequestBad("Send the file as a multipart form field named 'file'.")
    data = upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise errors.ImportBadFile(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    return data


def _reply(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


# The kinds are named in the URL rule (werkzeug's `any`): /imports/<kind> (POST) and
# /imports/<batch_id> (DELETE, a UUID) are then told apart by routing, so each URL's Allow
# header lists only its own methods, and the document lists the kinds.
_KIND = f"<any({', '.join(sorted(KINDS))}):kind>"


@blp.route(f"/imports/{_KIND}")
class ImportUpload(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    def post(self, kind: str) -> Any:
        """Import a CSV or XLSX file (multipart field `file`). With `dry_run=true` the rows are
        checked and previewed, nothing is stored. Otherwise every row is stored under one batch
        (201), or, when any row has an error, nothing is (422 with every row's errors)."""
        spec = _kind_for(kind)
        data = _upload()
        dry_run = (request.form.get("dry_run") or request.args.get("dry_run") or "").lower() in _TRUE
        staff = auth.current_staff()
        result, batch = run_import(auth.db_session(), spec, data, f"staff:{staff.name}", dry_run=dry_run)
        body = result.as_dict() | {"dry_run": dry_run}
        if dry_run:
            return _reply(body, 200)
        if batch is None:
            err = errors.ImportInvalid()
            return _reply(body | {"error": {"code": err.code, "message": err.detail_message}}, 422)
        auth.audit("import.apply", "import_batch", [batch.id], note=f"{spec.name}: {result.rows} rows")
        return _reply(body | {"batch_id": str(batch.id)}, 201)


@blp.route(f"/imports/{_KIND}/template")
class ImportTemplate(MethodView):
    @auth.require_roles(*access.ALL_ROLES)
    def get(self, kind: str) -> Any:
        """The columns of this kind of import, as a CSV header row."""
        spec = _kind_for(kind)
        return Response(
            ",".join(spec.header) + "\r\n",
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{spec.name}.csv"'},
        )


@blp.route("/imports/<uuid:batch_id>")
class ImportBatchResource(MethodView):
    @auth.require_roles(*access.RECORD_ROLES)
    def delete(self, batch_id: uuid.UUID) -> Any:
        """Undo an import: delete exactly the rows it stored (409 when later records use them)."""
        session = auth.db_session()
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            raise errors.NotFound("There is no import with this id.")
        _kind_for(batch.kind)
        staff = auth.current_staff()
        undo_batch(session, batch.id, f"staff:{staff.name}", KINDS)
        auth.audit("import.undo", "import_batch", [batch.id], note=batch.kind)
        return {"batch_id": str(batch.id), "kind": batch.kind, "rows": batch.rows,
                "undone_at": batch.undone_at.isoformat() if batch.undone_at else None}


@blp.route("/imports")
class ImportList(MethodView):
    @auth.require_roles(*access.RECORD_ROLES)
    def get(self) -> Any:
        """The last 200 imports, newest first."""
        stmt = select(ImportBatch).order_by(ImportBatch.created_at.desc()).limit(200)
        rows = auth.db_session().scalars(stmt)
        return [{"batch_id": str(b.id), "kind": b.kind, "rows": b.rows, "created_by": b.created_by,
                 "created_at": b.created_at.isoformat(),
                 "undone_at": b.undone_at.isoformat() if b.undone_at else None} for b in rows]
