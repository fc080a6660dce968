"""Staff records on the web: enter one record (`/records/<kind>/new`), import a CSV or XLSX file
with a preview before anything is stored (`/imports`), undo an import. The rows are checked and
stored by ``server.reports.importing`` (the same as the JSON API and ``sahakum import``).

Between the preview and "Apply" the uploaded file waits in the data folder under a generated
name (never the client's file name); applying checks it again, stores it and deletes it.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.accounts import access
from server.api import auth as api_auth
from server.db.models import ImportBatch
from server.reports import cells
from server.reports.import_kinds import KINDS, Kind
from server.reports.importing import enter_record, run_import, undo_batch
from server.sync.cases import as_uuid
from server.web import security
from server.web.blueprint import menu_item, web

menu_item("web.imports", _l("Records and imports"))

ENTRY_ROLES = access.RECORD_ROLES
MAX_BYTES = 10 * 1024 * 1024
PREVIEW_TTL_S = 24 * 3600
KIND_LABELS: dict[str, Any] = {
    "courses": _l("Courses"), "sessions": _l("Training sessions"), "attendance": _l("Attendance"),
    "gatekeepers": _l("Gatekeepers"), "peer_educators": _l("Peer educators"), "meetings": _l("Meetings"),
    "meeting_attendance": _l("Meeting attendance"), "distributions": _l("Distributions"),
    "hotline": _l("Hotline reports"), "savings_groups": _l("Savings groups"),
    "savings_members": _l("Savings group members"), "savings_books": _l("Savings books"),
    "savings_deposits": _l("Savings deposits and withdrawals"), "apprenticeships": _l("Apprenticeships"),
    "livelihood": _l("Livelihood support"),
}


def _kinds() -> list[tuple[str, Any]]:
    staff = security.current_staff()
    assert staff is not None
    return [(name, KIND_LABELS[name]) for name in KINDS if access.can_enter_records(staff.role, name)]


def _kind(name: str) -> Kind:
    staff = security.current_staff()
    kind = KINDS.get(name)
    if kind is None or staff is None or not access.can_enter_records(staff.role, kind.name):
        abort(404)
    return kind


def _actor() -> str:
    staff = security.current_staff()
    assert staff is not None
    return f"staff:{staff.name}"


def _pending_dir() -> Path:
    folder = Path(current_app.config["SAHAKUM"].data_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _drop_stale_previews(folder: Path) -> None:
    """Files previewed but never applied are deleted after a day (they may hold names)."""
    limit = time.time() - PREVIEW_TTL_S
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


@web.get("/imports", endpoint="imports")
@security.roles_required(*ENTRY_ROLES)
def imports_page() -> Any:
    allowed = {name for name, _label in _kinds()}
    batches = [b for b in api_auth.db_session().scalars(
        select(ImportBatch).order_by(ImportBatch.created_at.desc()).limit(30)) if b.kind in allowed]
    return render_template("imports/index.html", kinds=_kinds(), batches=batches, labels=KIND_LABELS)


@web.get("/imports/<kind>/template.csv")
@security.roles_required(*ENTRY_ROLES)
def import_template(kind: str) -> Any:
    spec = _kind(kind)
    return current_app.response_class(",".join(spec.header) + "\r\n", mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{spec.name}.csv"'})


@web.post("/imports/preview", endpoint="import_preview")
@security.roles_required(*ENTRY_ROLES)
def import_preview() -> Any:
    spec = _kind(request.form.get("kind", ""))
    upload = request.files.get("file")
    data = upload.read(MAX_BYTES + 1) if upload else b""
    if not data or len(data) > MAX_BYTES:
        flash(_("Choose a CSV or XLSX file of at most 10 MB."), "error")
        return redirect(url_for("web.imports"))
    result, _batch = run_import(api_auth.db_session(), spec, data, _actor(), dry_run=True)
    token = None
    if result.valid:
        token = secrets.token_hex(16)
        folder = _pending_dir()
        _drop_stale_previews(folder)
        (folder / token).write_bytes(data)
    return render_template("imports/preview.html", kind=spec, label=KIND_LABELS[spec.name], result=result,
                           token=token)


@web.post("/imports/apply", endpoint="import_apply")
@security.roles_required(*ENTRY_ROLES)
def import_apply() -> Any:
    spec = _kind(request.form.get("kind", ""))
    token = request.form.get("token", "")
    path = _pending_dir() / token
    if len(token) != 32 or not all(c in "0123456789abcdef" for c in token) or not path.is_file():
        flash(_("This preview has expired. Upload the file again."), "error")
        return redirect(url_for("web.imports"))
    data = path.read_bytes()
    result, batch = run_import(api_auth.db_session(), spec, data, _actor(), dry_run=False)
    path.unlink(missing_ok=True)
    if batch is None:
        return render_template("imports/preview.html", kind=spec, label=KIND_LABELS[spec.name],
                               result=result, token=None)
    api_auth.audit("import.apply", "import_batch", [batch.id], note=f"{spec.name}: {result.rows} rows web")
    flash(_("%(n)s rows stored. You can undo this import below.", n=result.rows), "info")
    return redirect(url_for("web.imports"))


@web.post("/imports/<batch_id>/undo", endpoint="import_undo")
@security.roles_required(*ENTRY_ROLES)
def import_undo(batch_id: str) -> Any:
    session = api_auth.db_session()
    bid = as_uuid(batch_id)
    batch = session.get(ImportBatch, bid) if bid else None
    if batch is None:
        abort(404)
    _kind(batch.kind)
    undo_batch(session, batch.id, _actor(), KINDS)
    api_auth.audit("import.undo", "import_batch", [batch.id], note=f"{batch.kind} web")
    flash(_("The import is undone: its rows are removed."), "info")
    return redirect(url_for("web.imports"))


def _fields(spec: Kind) -> list[dict[str, Any]]:
    return [{"name": c.name, "required": c.required, "choices": getattr(c.parse, "choices", None),
             "type": "date" if c.parse is cells.day else "text"} for c in spec.columns]


@web.route("/records/<kind>/new", methods=["GET", "POST"], endpoint="record_new")
@security.roles_required(*ENTRY_ROLES)
def record_new(kind: str) -> Any:
    spec = _kind(kind)
    errors_by_column: dict[str | None, list[str]] = {}
    if request.method == "POST":
        values = {c.name: request.form.get(c.name, "") for c in spec.columns}
        result, batch = enter_record(api_auth.db_session(), spec, values, _actor())
        if batch is not None:
            api_auth.audit("record.create", "import_batch", [batch.id], note=spec.name)
            flash(_("Saved. To take it back, undo it in the list of imports."), "info")
            return redirect(url_for("web.record_new", kind=kind))
        for e in result.errors:
            errors_by_column.setdefault(e.column, []).append(e.reason)
    return render_template("imports/record.html", kind=spec, label=KIND_LABELS[spec.name],
                           fields=_fields(spec), values=request.form, errors=errors_by_column)
