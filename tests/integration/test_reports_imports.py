"""Imports of staff records: preview, per-row errors, all-or-nothing, Khmer digits, XLSX, undo."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from server.db.models import (
    Attendance,
    Course,
    CourseCategory,
    ImportBatch,
    SavingsTransaction,
    TrainingSession,
)
from server.db.session import Database
from tests.support import staff_api
from tests.support.staff_api import StaffClient, make_member

# The staff fixture (one client per role), under a name that does not shadow an import.
users = staff_api.staff

SESSIONS_CSV = (
    "session_code,course_code,date,target_group,commune_code,anonymous_headcount\n"
    "S1,AW1,២០២៦-១១-០៣,karaoke_workers,180101,១២\n"
    "S2,AW1,4/11/2026,women_in_prostitution,180102,3\n"
)


def upload(user: StaffClient, kind: str, content: bytes, name: str = "f.csv", **form: str) -> Any:
    return user.client.post(
        f"/api/v1/imports/{kind}",
        headers={"Authorization": f"Bearer {user.token}"},
        data={"file": (io.BytesIO(content), name), **form},
        content_type="multipart/form-data",
    )


def undo(user: StaffClient, batch_id: str) -> Any:
    auth = {"Authorization": f"Bearer {user.token}"}
    return user.client.delete(f"/api/v1/imports/{batch_id}", headers=auth)


def seed_course(db: Database) -> None:
    with db.transaction() as s:
        s.add(Course(course_code="AW1", title="Rights", category=CourseCategory.AWARENESS))
        for code in ("M001", "M002"):
            make_member(s, code, phone=None, nickname=None)


def count(db: Database, model: Any) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_import_sessions__khmer_digits_become_numbers_and_dates(db: Database, users: dict) -> None:
    seed_course(db)
    r = upload(users["me"], "sessions", SESSIONS_CSV.encode())
    assert r.status_code == 201, r.json
    assert r.json["rows"] == 2 and r.json["valid"] and r.json["batch_id"]
    with db.sessionmaker() as s:
        s1 = s.scalar(select(TrainingSession).where(TrainingSession.session_code == "S1"))
        s2 = s.scalar(select(TrainingSession).where(TrainingSession.session_code == "S2"))
        assert (s1.session_date, s1.anonymous_headcount) == (date(2026, 11, 3), 12)
        assert s2.session_date == date(2026, 11, 4)


def test_import_dry_run__previews_and_stores_nothing(db: Database, users: dict) -> None:
    seed_course(db)
    r = upload(users["case"], "sessions", SESSIONS_CSV.encode(), dry_run="true")
    assert r.status_code == 200
    assert r.json["dry_run"] is True and r.json["valid"] is True
    assert [p["session_code"] for p in r.json["preview"]] == ["S1", "S2"]
    assert r.json["preview"][0]["anonymous_headcount"] == "12"
    assert count(db, TrainingSession) == 0 and count(db, ImportBatch) == 0


def test_import_attendance__bad_member_code_names_row_and_column_and_stores_nothing(
    db: Database, users: dict
) -> None:
    seed_course(db)
    assert upload(users["me"], "sessions", SESSIONS_CSV.encode()).status_code == 201
    sheet = (
        "session_code,member_code,pe_code,gatekeeper_code\n"
        "S1,M001,,\n"
        "S1,M999,,\n"
        "S9,M002,,\n"
        "S1,,,\n"
        "S1,M001,,\n"
    )
    for dry in ("true", "false"):
        r = upload(users["me"], "attendance", sheet.encode(), dry_run=dry)
        assert r.status_code == (200 if dry == "true" else 422)
        errors = {(e["row"], e["column"]) for e in r.json["errors"]}
        assert (3, "member_code") in errors  # unknown member
        assert (4, "session_code") in errors  # unknown session
        assert (5, "member_code") in errors  # nobody named on the row
        assert "M999" not in json.dumps(r.json["errors"])  # reasons never quote cells
    assert count(db, Attendance) == 0


def test_import_attendance__same_person_twice_is_a_row_error_found_by_the_dry_run(
    db: Database, users: dict
) -> None:
    seed_course(db)
    upload(users["me"], "sessions", SESSIONS_CSV.encode())
    sheet = "session_code,member_code\nS1,M001\nS1,M001\n"
    r = upload(users["me"], "attendance", sheet.encode(), dry_run="true")
    assert r.json["valid"] is False
    assert r.json["errors"] == [
        {"row": 3, "column": "member_code", "reason": "This person is already recorded at this session."}
    ]


def test_import_xlsx__same_rules_as_csv(db: Database, users: dict) -> None:
    seed_course(db)
    wb = Workbook()
    ws = wb.active
    ws.append(["session_code", "course_code", "date", "target_group", "anonymous_headcount"])
    ws.append(["S7", "AW1", date(2026, 11, 9), "karaoke_workers", 7])
    ws.append(["S8", "AW1", "២៩/១១/២០២៦", "pe", "០"])
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(users["admin"], "sessions", buf.getvalue(), name="x.xlsx")
    assert r.status_code == 201, r.json
    with db.sessionmaker() as s:
        rows = {t.session_code: (t.session_date, t.anonymous_headcount)
                for t in s.scalars(select(TrainingSession))}
    assert rows == {"S7": (date(2026, 11, 9), 7), "S8": (date(2026, 11, 29), 0)}


def test_import_undo__removes_exactly_its_rows_once(db: Database, users: dict) -> None:
    seed_course(db)
    upload(users["me"], "sessions", SESSIONS_CSV.encode())
    a = upload(users["me"], "attendance", b"session_code,member_code\nS1,M001\nS2,M001\n").json
    b = upload(users["me"], "attendance", b"session_code,member_code\nS1,M002\n").json
    assert count(db, Attendance) == 3
    r = undo(users["me"], a["batch_id"])
    assert r.status_code == 200 and r.json["rows"] == 2
    with db.sessionmaker() as s:
        left = list(s.scalars(select(Attendance)))
        assert [x.import_batch_id for x in left] == [__import__("uuid").UUID(b["batch_id"])]
    assert undo(users["me"], a["batch_id"]).status_code == 409


def test_import_undo__refused_while_later_records_use_the_batch(db: Database, users: dict) -> None:
    seed_course(db)
    sessions = upload(users["me"], "sessions", SESSIONS_CSV.encode()).json
    upload(users["me"], "attendance", b"session_code,member_code\nS1,M001\n")
    r = undo(users["me"], sessions["batch_id"])
    assert r.status_code == 409 and r.json["error"]["code"] == "import.undo_blocked"
    assert count(db, TrainingSession) == 2


def test_import_deposits__amounts_checked_and_role_rules(db: Database, users: dict) -> None:
    seed_course(db)
    upload(users["case"], "savings_groups", b"group_code,name,report_group\nSG1,Group one,karaoke\n")
    r = upload(users["case"], "savings_books",
               b"book_number,holder_type,member_code,group_code,issued_date\nB1,member,M001,SG1,2026-11-01\n")
    assert r.status_code == 201, r.json
    deposits = ("book_number,date,amount,currency\n"
                "B1,2026-11-05,២០០០០,khr\nB1,2026-10-05,5,USD\nB1,2026-11-06,-3,USD\n").encode()
    assert upload(users["me"], "savings_books", b"book_number\n").status_code == 403  # books: case workers
    r = upload(users["case"], "savings_deposits", deposits)
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json["errors"]} == {(4, "amount"), (3, "date")}
    assert r.json["preview"][0]["amount"] == "•••"  # amounts are sensitive
    ok = upload(users["case"], "savings_deposits",
                b"book_number,date,amount,currency\nB1,2026-11-05,20000,KHR\n")
    assert ok.status_code == 201
    with db.sessionmaker() as s:
        assert [int(t.amount) for t in s.scalars(select(SavingsTransaction))] == [20000]


def test_import_template__is_the_header_row(users: dict) -> None:
    r = users["me"].get("/api/v1/imports/attendance/template")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.get_data(as_text=True) == "session_code,member_code,pe_code,gatekeeper_code\r\n"
    assert users["me"].get("/api/v1/imports/nonsense/template").status_code == 404


def test_import_unknown_column_and_missing_column__header_errors(db: Database, users: dict) -> None:
    r = upload(users["case"], "sessions", b"session_code,course,date\nS1,AW1,2026-11-01\n", dry_run="1")
    cols = {(e["row"], e["column"]) for e in r.json["errors"]}
    assert {(1, "course_code"), (1, "target_group"), (1, "course")} <= cols


def test_cli_import__dry_run_then_real(db: Database, tmp_path: Any, monkeypatch: Any) -> None:
    from server.cli import main

    seed_course(db)
    monkeypatch.setenv("SAHAKUM_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(tmp_path))
    f = tmp_path / "sessions.csv"
    f.write_text(SESSIONS_CSV, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["import", "sessions", str(f), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["valid"] is True and count(db, TrainingSession) == 0
    r = runner.invoke(main, ["import", "sessions", str(f)])
    assert r.exit_code == 0 and count(db, TrainingSession) == 2
    r = runner.invoke(main, ["import", "sessions", str(f)])
    assert r.exit_code == 1  # codes already stored
    assert {e["column"] for e in json.loads(r.output)["errors"]} == {"session_code"}
