"""`sahakum demo load`: fictional sample data sent through the real OpenRosa path, and staff
sign-ins for trying the staff pages. Refuses a database that holds other data."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Form, StaffRole, StaffUser
from server.db.models.cases import Workplace, WorkplaceName
from server.db.session import Database
from server.demo_data import DemoSubmission

if TYPE_CHECKING:
    from flask import Flask

DEMO_STAFF = (
    ("demo-admin", StaffRole.ADMIN),
    ("demo-case", StaffRole.CASE),
    ("demo-child", StaffRole.CHILD_PROTECTION),
    ("demo-me", StaffRole.ME),
)


def _ctx() -> object:
    from server.cli import Context

    return click.get_current_context().ensure_object(Context)


@click.group()
def demo() -> None:
    """Fictional sample data for trying Sahakum (never for a database in use)."""


def _placed(session: Session, item: DemoSubmission) -> None:
    """Point the submission at its workplace as the phone's list would (id and version)."""
    wp = session.scalar(
        select(Workplace).join(WorkplaceName, WorkplaceName.workplace_id == Workplace.id)
        .where(WorkplaceName.name_latin == item.workplace).limit(1)
    )
    if wp is None and item.form_id == "workplace_visit":
        raise click.ClickException("a demo workplace was not created by the intakes")
    item.at_workplace(str(wp.id) if wp is not None else None)
    if wp is not None and item.form_id == "workplace_visit":
        v = str(wp.version)
        item.entity = {"id": str(wp.id), "baseVersion": v, "trunkVersion": v, "branchId": ""}


def _send_all(app: Flask) -> int:
    """Create the demo collectors and send each submission as Collect would (HEAD-less POST)."""
    import io

    from server.accounts.collectors import create_collector
    from server.demo_data import COLLECTORS, demo_submissions, instance_xml
    from server.sync.worker import process_pending

    db: Database = app.extensions["sahakum_db"]
    with db.transaction() as session:
        tokens = {c.name: create_collector(session, c.name, c.role, c.communes, replace=True)[1]
                  for c in COLLECTORS}
        forms = {f.xml_form_id: f.versions[-1].xml for f in session.scalars(select(Form))}
    missing = {"member_intake", "workplace_visit", "village_data"} - set(forms)
    if missing:
        raise click.ClickException(f"publish the forms first (sahakum forms publish): {sorted(missing)}")
    client = app.test_client()
    sent = 0
    for item in demo_submissions(datetime.now(UTC).date()):
        if item.workplace:
            with db.transaction() as session:
                _placed(session, item)
        xml = instance_xml(forms[item.form_id], item.answers, f"uuid:{uuid.uuid4()}", item.entity)
        response = client.post(
            f"/v1/key/{tokens[item.collector]}/submission",
            data={"xml_submission_file": (io.BytesIO(xml), "instance.xml", "text/xml")},
            headers={"X-OpenRosa-Version": "1.0"}, content_type="multipart/form-data", buffered=True,
        )
        if response.status_code != 201:
            raise click.ClickException(f"the server refused a demo submission ({response.status_code})")
        sent += 1
        process_pending(db)  # merged in order, as the after-reply hook would on a quiet server
    return sent


def _sign_ins(db: Database) -> list[tuple[str, str, str]]:
    """Demo staff accounts with fresh generated passwords (printed once, stored hashed)."""
    from server.accounts.passwords import set_password
    from server.accounts.staff import create_staff

    out = []
    with db.transaction() as session:
        for name, role in DEMO_STAFF:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is None:
                user, _token = create_staff(session, name, role)
            password = secrets.token_urlsafe(12)
            set_password(session, user, password)
            out.append((name, role.value, password))
    return out


@demo.command("load")
@click.option("--force", is_flag=True, help="Load even into a database that already holds data.")
@click.option("--base-url", default=None, help="Address printed for the staff pages.")
def demo_load(force: bool, base_url: str | None) -> None:
    """Load fictional members, a duplicate pair, workplace visits with alerts (an urgent
    child-protection referral), and village reports for two communes, by sending them through
    the OpenRosa submission endpoint; then print staff sign-ins (demo-admin, demo-case,
    demo-child, demo-me) with generated passwords. Running it again only renews the passwords."""
    from server import create_app
    from server.demo_data import demo_loaded, has_data

    ctx = _ctx()
    settings = ctx.settings  # type: ignore[attr-defined]
    with ctx.db.transaction() as session:  # type: ignore[attr-defined]
        loaded, used = demo_loaded(session), has_data(session)
    if used and not loaded and not force:
        raise click.ClickException(
            "this database already holds submissions or members: the demo data is fictional and "
            "must not mix with real records. Use an empty database (or --force on a test copy)."
        )
    if not loaded:
        app = create_app(settings)
        try:
            sent = _send_all(app)
        finally:
            app.extensions["sahakum_db"].dispose()
        click.echo(f"demo data loaded: {sent} fictional submissions sent through /v1/.../submission")
    else:
        click.echo("demo data already loaded (kept as it is)")
    base = (base_url or settings.base_url or "http://127.0.0.1:8000").rstrip("/")
    click.echo(f"staff pages: {base}/  (sign in with one of these; passwords are new on every run)")
    for name, role, password in _sign_ins(ctx.db):  # type: ignore[attr-defined]
        click.echo(f"  {role:<17} name: {name:<11} password: {password}")
