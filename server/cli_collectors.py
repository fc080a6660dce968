"""`sahakum collectors add|list|revoke`: accounts for the phones, and their set-up QR codes."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import click

from server import errors
from server.cli import Context, pass_ctx
from server.db.enums import CollectorRole

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@click.group()
def collectors() -> None:
    """Collector accounts (one per phone or person) and their Collect set-up QR codes."""


def _write_png(path: Path, payload: str) -> None:
    """The QR code holds the secret URL: written owner-only (0600)."""
    import segno

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    segno.make(payload, error="l").save(buffer, kind="png", scale=6, border=4)
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(buffer.getvalue())


@collectors.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in CollectorRole]))
@click.option("--communes", default="", help="Commune codes, space or comma separated.")
@click.option("--base-url", default=None,
              help="Server address as phones reach it (default: SAHAKUM_BASE_URL, else "
                   f"{DEFAULT_BASE_URL}).")
@click.option("--qr-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the QR PNG (default: instance/qr).")
@click.option("--json", "as_json", is_flag=True, help="Print {name, role, server_url, qr_png}.")
@click.option("--replace", is_flag=True,
              help="If NAME exists, give it a new token (its old phone set-up stops working).")
@pass_ctx
def collectors_add(
    ctx: Context, name: str, role: str, communes: str, base_url: str | None,
    qr_dir: Path | None, as_json: bool, replace: bool,
) -> None:
    """Create collector NAME (an account label such as PE07) and print its Collect set-up."""
    import segno

    from server.accounts.collectors import CollectSettings, create_collector, server_url

    settings = ctx.settings
    base = (base_url or settings.base_url or DEFAULT_BASE_URL).rstrip("/")
    try:
        with ctx.db.transaction() as session:
            collector, token = create_collector(session, name, role, communes, replace=replace)
            collector_name, collector_role = collector.name, collector.role.value
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    url = server_url(base, token)
    payload = CollectSettings(url).qr_payload()
    png = (qr_dir or settings.instance_dir / "qr") / f"collector-{collector.id}.png"
    _write_png(png, payload)
    if as_json:
        click.echo(json.dumps(
            {"name": collector_name, "role": collector_role, "server_url": url, "qr_png": str(png)}
        ))
        return
    click.echo(f"collector {collector_name} ({collector_role}) created")
    click.echo(f"server URL for Collect (keep it secret): {url}")
    click.echo(f"QR code (Collect > Add project > scan): {png}")
    out = io.StringIO()
    segno.make(payload, error="l").terminal(out=out, compact=True)
    click.echo(out.getvalue())


@collectors.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collectors_list(ctx: Context, as_json: bool) -> None:
    """List collector accounts (tokens are never shown again)."""
    from server.accounts.collectors import list_collectors

    with ctx.db.transaction() as session:
        rows = [
            {
                "name": c.name,
                "role": c.role.value,
                "communes": c.commune_codes,
                "active": c.active,
                "created_at": c.created_at.isoformat(),
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in list_collectors(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        status = "active" if row["active"] else "revoked"
        click.echo(
            f"{row['name']:<20} {row['role']:<14} {status:<8} {' '.join(row['communes']) or '-'}"
        )


@collectors.command("revoke")
@click.argument("name")
@pass_ctx
def collectors_revoke(ctx: Context, name: str) -> None:
    """Revoke NAME: its phone gets 403 from now on (re-add under a new name to re-enrol)."""
    from server.accounts.collectors import revoke_collector

    try:
        with ctx.db.transaction() as session:
            revoke_collector(session, name)
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    click.echo(f"collector {name} revoked")
