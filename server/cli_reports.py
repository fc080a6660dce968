"""`sahakum import`, `sahakum report` and `sahakum export`: programme reporting from the shell."""

from __future__ import annotations

import getpass
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import click

from server import errors


def _ctx() -> object:
    from server.cli import Context

    return click.get_current_context().ensure_object(Context)


def _actor() -> str:
    # The operator's login, for the batch's created_by (no staff account on the shell).
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _audit(session: Any, action: str, object_type: str, object_id: str, note: dict[str, str] | str,
           ) -> None:
    """An audit entry for what the shell read, as the API writes one for a staff member: the
    command-line account as actor, the operator's login as the request, the filter as reason
    (codes and options only, never personal data)."""
    from server.accounts.staff import audit, command_line_actor

    reason = note if isinstance(note, str) else json.dumps(note, sort_keys=True)
    audit(session, command_line_actor(session), action, object_type, [object_id], reason=reason,
          request_id=_actor()[:64])


@click.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and preview the rows; store nothing.")
def import_command(kind: str, file: Path, dry_run: bool) -> None:
    """Import staff records of KIND from a CSV or XLSX FILE (all rows, or none when a row has an
    error). KIND is one of: courses, sessions, attendance, gatekeepers, peer_educators,
    meetings, meeting_attendance, distributions, hotline, savings_groups, savings_members,
    savings_books, savings_deposits, apprenticeships, livelihood."""
    from server.reports.import_kinds import KINDS
    from server.reports.importing import run_import

    spec = KINDS.get(kind)
    if spec is None:
        raise click.ClickException(f"Unknown kind. Choose one of: {', '.join(KINDS)}.")
    ctx = _ctx()
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            result, batch = run_import(session, spec, file.read_bytes(), _actor(), dry_run=dry_run)
            out = result.as_dict() | {"dry_run": dry_run, "batch_id": str(batch.id) if batch else None}
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    click.echo(json.dumps(out, ensure_ascii=False, indent=1))
    if not result.valid:
        sys.exit(1)


@click.command("import-undo")
@click.argument("batch_id")
def import_undo_command(batch_id: str) -> None:
    """Undo an import batch: delete exactly the rows it stored."""
    from server.reports.import_kinds import KINDS
    from server.reports.importing import undo_batch

    try:
        bid = uuid.UUID(batch_id)
    except ValueError:
        raise click.ClickException("Not an import id.") from None
    ctx = _ctx()
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            batch = undo_batch(session, bid, _actor(), KINDS)
            click.echo(f"undone: {batch.kind}, {batch.rows} rows")
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None


@click.group()
def report() -> None:
    """The programme's indicator report (domain.md 5)."""


@report.command("indicators")
@click.option("--period", required=True, help="2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-30")
@click.option("--external", is_flag=True, help="Show cells under 5 and child-protection figures as <5.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json",
              show_default=True)
@click.option("--lang", type=click.Choice(["en", "km"]), default="en", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here, not stdout.")
@click.option("--freeze", is_flag=True, help="Also store the report as a snapshot and print its SHA-256.")
def report_indicators(period: str, external: bool, fmt: str, lang: str, output: Path | None,
                      freeze: bool) -> None:
    """Compute the 18 indicators for a period."""
    from server.reports import report as reports

    ctx = _ctx()
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            body = reports.build_report(session, period, external=external, lang=lang)
            _audit(session, "report.read", "report", body["period"], f"external={external} format={fmt}")
            snap = reports.freeze(session, body, _actor()) if freeze else None
            if snap is not None:
                _audit(session, "report.freeze", "report_snapshot", str(snap.id), f"external={external}")
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    if fmt == "json":
        content = (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    else:
        content = reports.render_csv(body) if fmt == "csv" else reports.render_xlsx(body)
    if output:
        output.write_bytes(content)
    elif fmt == "xlsx" and sys.stdout.isatty():
        raise click.ClickException("XLSX is binary: give -o FILE.")
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    if snap is not None:
        click.echo(f"snapshot {snap.id} sha256 {snap.sha256}", err=True)


@click.group()
def export() -> None:
    """Exports of submissions (CSV with BOM, or XLSX)."""


@export.command("submissions")
@click.argument("form_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--labels", type=click.Choice(["codes", "en", "km"]), default="codes", show_default=True)
@click.option("--table", help="CSV only: a repeat's rows instead of the main table.")
@click.option("--role", type=click.Choice(["me", "case", "child_protection", "admin"]), default="me",
              show_default=True, help="Export as this role sees it (me: no personal data).")
@click.option("--collector", help="Collector account name or the form's collector code.")
@click.option("--commune", help="6-digit commune code.")
@click.option("--event-from", type=click.DateTime(["%Y-%m-%d"]), help="Event date from (YYYY-MM-DD).")
@click.option("--event-to", type=click.DateTime(["%Y-%m-%d"]), help="Event date to (YYYY-MM-DD).")
@click.option("--review-state",
              type=click.Choice(["received", "has_issues", "edited", "approved", "rejected"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here, not stdout.")
def export_submissions(form_id: str, fmt: str, labels: str, table: str | None, role: str,
                       output: Path | None, **filters: Any) -> None:
    """Stream FORM_ID's submissions, filtered as on the submissions page."""
    from server.accounts import access
    from server.casework.listing import SubmissionFilter
    from server.db.models import StaffRole
    from server.reports import exports

    staff_role = StaffRole(role)
    given = {k: (v.date() if hasattr(v, "date") else v) for k, v in filters.items() if v is not None}
    req = exports.ExportRequest(form_id=form_id, role=staff_role,
                                with_pii=access.pii_access(staff_role).granted, labels=labels,
                                filters=SubmissionFilter(**given))
    described = {"format": fmt, "labels": labels, "role": role, **{k: str(v) for k, v in given.items()}}
    if table:
        described["table"] = table
    if fmt == "xlsx" and table:
        raise click.ClickException("--table is for CSV; XLSX has every table as a sheet.")
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.ClickException("XLSX is binary: give -o FILE.")
    ctx = _ctx()
    try:
        with ctx.db.sessionmaker() as session:  # type: ignore[attr-defined]
            lay = exports.export_layout(session, req)
            exports.check_table(lay, table)
            # Audited before anything is written, in its own transaction (the stream only reads).
            with ctx.db.transaction() as audit_session:  # type: ignore[attr-defined]
                _audit(audit_session, "export.submissions", "form", form_id, described)
            chunks = (exports.stream_csv(session, req, lay, table) if fmt == "csv"
                      else exports.stream_xlsx(session, req, lay))
            out = output.open("wb") if output else sys.stdout.buffer
            try:
                for chunk in chunks:
                    out.write(chunk)
            finally:
                if output:
                    out.close()
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None


@export.command("cases")
@click.argument("table", type=click.Choice(["members", "workplaces", "referrals", "visits"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--role", type=click.Choice(["me", "case", "child_protection", "admin"]), default="me",
              show_default=True, help="Export as this role sees it (me: codes, no personal data).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here, not stdout.")
def export_cases(table: str, fmt: str, role: str, output: Path | None) -> None:
    """Stream a case table."""
    from server.accounts import access
    from server.db.models import StaffRole
    from server.reports import case_exports

    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.ClickException("XLSX is binary: give -o FILE.")
    staff_role = StaffRole(role)
    ctx = _ctx()
    with ctx.db.transaction() as audit_session:  # type: ignore[attr-defined]
        _audit(audit_session, "export.cases", "case_table", table, {"format": fmt, "role": role})
    with ctx.db.sessionmaker() as session:  # type: ignore[attr-defined]
        out = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in case_exports.stream(session, table, staff_role,
                                             access.pii_access(staff_role).granted, fmt):
                out.write(chunk)
        finally:
            if output:
                out.close()
