"""`sahakum staff`: staff accounts: API bearer tokens (shown once) and web sign-in passwords."""

from __future__ import annotations

import json
import sys

import click

from server import errors
from server.db.enums import StaffRole


def _ctx() -> object:
    from server.cli import Context

    return click.get_current_context().ensure_object(Context)


DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@click.group()
def staff() -> None:
    """Staff accounts: web sign-in and the JSON API (/api/v1)."""


@staff.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in StaffRole]))
@click.option("--json", "as_json", is_flag=True, help="Print {name, role, token, setup_url} as JSON.")
@click.option("--base-url", default=None,
              help=f"Address staff open in a browser (default: SAHAKUM_BASE_URL, else {DEFAULT_BASE_URL}).")
def staff_add(name: str, role: str, as_json: bool, base_url: str | None) -> None:
    """Create a staff account; print its API token and a one-time link (valid 24 hours) where
    the person chooses a web sign-in password. Both are shown only once."""
    from server.accounts.passwords import issue_setup_token, setup_url
    from server.accounts.staff import create_staff

    ctx = _ctx()
    base = base_url or ctx.settings.base_url or DEFAULT_BASE_URL  # type: ignore[attr-defined]
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            user, token = create_staff(session, name, StaffRole(role))
            link = setup_url(base, issue_setup_token(session, user))
            out = {"name": user.name, "role": user.role.value, "token": token, "setup_url": link}
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(f"staff account {out['name']} ({out['role']}) created")
    click.echo(f"token (shown once; send as 'Authorization: Bearer <token>'): {token}")
    click.echo(f"web sign-in: open this link within 24 hours to choose a password (works once): {link}")


@staff.command("set-password")
@click.argument("name")
def staff_set_password(name: str) -> None:
    """Set NAME's web sign-in password, read from standard input (one line; at least 12
    characters). Also unlocks the account and ends any unused set-up link."""
    from sqlalchemy import select

    from server.accounts.passwords import set_password
    from server.db.models import StaffUser

    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password.removesuffix("\r")
    ctx = _ctx()
    try:
        with ctx.db.transaction() as session:  # type: ignore[attr-defined]
            user = session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is None:
                raise errors.StaffNotFound()
            set_password(session, user, password)
    except errors.SahakumError as exc:
        raise click.ClickException(exc.detail_message) from None
    click.echo(f"password set for {name}")


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
