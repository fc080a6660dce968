"""`sahakum staff`: staff accounts for the JSON API (bearer tokens, shown once)."""

from __future__ import annotations

import json

import click

from server import errors
from server.db.enums import StaffRole


def _ctx() -> object:
    from server.cli import Context

    return click.get_current_context().ensure_object(Context)


@click.group()
def staff() -> None:
    """Staff accounts for the JSON API (/api/v1)."""


@staff.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in StaffRole]))
@click.option("--json", "as_json", is_flag=True, help="Print {name, role, token} as JSON.")
def staff_add(name: str, role: str, as_json: bool) -> None:
    """Create a staff account and print its bearer token (shown only once)."""
    from server.accounts.staff import create_staff

    ctx = _ctx()
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            user, token = create_staff(session, name, StaffRole(role))
            out = {"name": user.name, "role": user.role.value, "token": token}
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(f"staff account {out['name']} ({out['role']}) created")
    click.echo(f"token (shown once; send as 'Authorization: Bearer <token>'): {token}")


@staff.command("list")
@click.option("--json", "as_json", is_flag=True)
def staff_list(as_json: bool) -> None:
    """List staff accounts (never their tokens)."""
    from server.accounts.staff import list_staff

    ctx = _ctx()
    with ctx.db.transaction() as session:  # type: ignore[attr-defined]
        rows = [
            {
                "name": u.name,
                "role": u.role.value,
                "created_at": u.created_at.isoformat(),
                "revoked_at": u.revoked_at.isoformat() if u.revoked_at else None,
            }
            for u in list_staff(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        click.echo(f"{row['name']:<30} {row['role']:<17} {state}")


@staff.command("revoke")
@click.argument("name")
def staff_revoke(name: str) -> None:
    """Revoke a staff account: its token stops working at once."""
    from server.accounts.staff import revoke_staff

    ctx = _ctx()
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            revoke_staff(session, name)
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    click.echo(f"{name} revoked")
