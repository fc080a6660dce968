"""The command line's exports and reports are audited like the API's: one entry each, the
command-line account as actor, the filter as reason, and no personal data in the entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.accounts.staff import COMMAND_LINE_ACCOUNT, find_active_staff
from server.cli import main
from server.db.models import AuditEntry, StaffUser
from server.db.session import Database
from tests.integration.test_merge_intake import intake
from tests.integration.test_merge_village import report as village_report
from tests.integration.test_reports_exports import read_csv, send

pytestmark = pytest.mark.usefixtures("published_forms")


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: Any) -> Any:
    monkeypatch.setenv("SAHAKUM_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(tmp_path))

    def run(*args: str) -> Any:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result

    return run


def entries(db: Database, action: str) -> list[tuple[AuditEntry, str]]:
    with db.sessionmaker() as s:
        return [(e, name) for e, name in s.execute(
            select(AuditEntry, StaffUser.name).join(StaffUser, StaffUser.id == AuditEntry.actor_id)
            .where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_cli_export_submissions__audited_with_its_filter(db: Database, cli: Any, tmp_path: Path) -> None:
    send(db, "village_data", village_report(), by="V18010101")
    send(db, "village_data", village_report(village="18020101", commune="180201"), by="V18010101")
    out = tmp_path / "v.csv"
    cli("export", "submissions", "village_data", "--commune", "180101", "--event-from", "2026-01-01",
        "--labels", "en", "-o", str(out))
    assert [row["village"] for row in read_csv(out.read_bytes())] == ["18010101"]  # the filter applied
    [(entry, actor)] = entries(db, "export.submissions")
    assert actor == COMMAND_LINE_ACCOUNT and entry.object_type == "form" and entry.object_id == "village_data"
    assert json.loads(entry.reason) == {"commune": "180101", "event_from": "2026-01-01", "format": "csv",
                                        "labels": "en", "role": "me"}
    assert entry.request_id.startswith("cli")
    cli("export", "submissions", "village_data", "--table", "new_venue", "-o", str(out))
    assert len(entries(db, "export.submissions")) == 2  # one entry per export


def test_cli_case_export_and_report__audited_without_personal_data(db: Database, cli: Any, tmp_path: Path,
                                                                   ) -> None:
    send(db, "member_intake", intake(health_now="yes"))
    cli("export", "cases", "members", "--role", "case", "-o", str(tmp_path / "m.csv"))
    assert "ចាន់" in (tmp_path / "m.csv").read_text("utf-8-sig")  # the case role's export has names
    [(entry, actor)] = entries(db, "export.cases")
    assert actor == COMMAND_LINE_ACCOUNT and entry.object_id == "members"
    assert json.loads(entry.reason) == {"format": "csv", "role": "case"}
    cli("report", "indicators", "--period", "2026-11", "--format", "csv", "-o", str(tmp_path / "r.csv"),
        "--freeze")
    [(read, _)] = entries(db, "report.read")
    assert read.object_id == "2026-11" and read.reason == "external=False format=csv"
    [(frozen, _)] = entries(db, "report.freeze")
    assert frozen.object_type == "report_snapshot"
    with db.sessionmaker() as s:
        logged = " ".join(f"{e.object_id} {e.reason} {e.request_id}" for e in s.scalars(select(AuditEntry)))
        account = s.scalar(select(StaffUser).where(StaffUser.name == COMMAND_LINE_ACCOUNT))
        assert account is not None and not account.active  # nobody can sign in as it
        assert find_active_staff(s, "x" * 64) is None
    assert "ចាន់" not in logged and "7K3Q9M" not in logged  # no names, no member codes


def test_staff_add__refuses_the_command_lines_reserved_name(db: Database) -> None:
    """A person holding that name would be named as the one who ran every shell export."""
    from server import errors
    from server.accounts.staff import create_staff
    from server.db.enums import StaffRole

    with db.transaction() as s, pytest.raises(errors.StaffNameTaken):
        create_staff(s, COMMAND_LINE_ACCOUNT, StaffRole.CASE)
