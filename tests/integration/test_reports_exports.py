"""Exports of submissions: CSV with BOM and XLSX, repeats joined by the submission key, labels,
the submission list's filters, role rules (no personal data for me, no child cases for others),
streaming, and an audit row per export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import AuditEntry, ReviewState, Submission
from server.db.session import Database
from server.sync.worker import process_submission
from tests.integration.test_merge_intake import intake
from tests.integration.test_merge_village import report as village_report
from tests.support import staff_api
from tests.support.staff_api import StaffClient
from tests.support.submissions import add_submission, collector

pytestmark = pytest.mark.usefixtures("published_forms")
users = staff_api.staff


def send(db: Database, form_id: str, answers: dict[str, Any], by: str = "PE07") -> uuid.UUID:
    with db.transaction() as s:
        sid = add_submission(s, form_id, answers, by=collector(s, by)).id
    assert process_submission(db, sid).ok
    return sid


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def villages(db: Database) -> list[uuid.UUID]:
    venues = [{"nv_name": "Sunrise KTV", "nv_type": "karaoke"},
              {"nv_name": "Blue Moon", "nv_type": "massage"}]
    a = send(db, "village_data", village_report(n_new_venues="2", new_venue=venues), by="V18010101")
    b = send(db, "village_data", village_report(village="18010102", n_new_venues="0"), by="V18010101")
    return [a, b]


def test_export_csv__main_table_and_repeat_joined_by_submission_key(
    db: Database, villages: list[uuid.UUID], users: dict[str, StaffClient]
) -> None:
    r = users["case"].get("/api/v1/exports/submissions/village_data?format=csv")
    assert r.status_code == 200 and r.is_streamed and r.mimetype == "text/csv"
    main = read_csv(r.data)
    assert [row["village"] for row in main] == ["18010101", "18010102"]
    assert main[0]["n_new_venues"] == "2" and main[0]["submitted_by"] == "V18010101"
    assert "nv_name" not in main[0]  # repeat fields live in the repeat's table
    rep = read_csv(users["case"].get("/api/v1/exports/submissions/village_data?table=new_venue").data)
    assert [(x["row"], x["nv_name"], x["nv_type"]) for x in rep] == [
        ("1", "Sunrise KTV", "karaoke"), ("2", "Blue Moon", "massage")]
    assert {x["submission_key"] for x in rep} == {main[0]["submission_key"]}


def test_export__labels_in_english_or_khmer(db: Database, villages: list, users: dict) -> None:
    url = "/api/v1/exports/submissions/village_data?table=new_venue&labels="
    en = read_csv(users["case"].get(url + "en").data)
    km = read_csv(users["case"].get(url + "km").data)
    assert en[0]["nv_type"] == "Karaoke" and km[0]["nv_type"].startswith("ខារ៉ាអូខេ")


def test_export_xlsx__a_sheet_per_table(db: Database, villages: list, users: dict) -> None:
    r = users["admin"].get("/api/v1/exports/submissions/village_data?format=xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.data), read_only=True)
    assert book.sheetnames == ["village_data", "village_data-new_venue", "village_data-case_alert"]
    rows = list(book["village_data-new_venue"].iter_rows(values_only=True))
    assert rows[0][:2] == ("submission_key", "row") and len(rows) == 3
    assert "nv_name" not in rows[0]  # admin without a stated reason: no free text


def test_export__me_role_gets_no_names_phones_dates_of_birth_or_free_text(
    db: Database, users: dict[str, StaffClient]
) -> None:
    send(db, "member_intake", intake())
    me = read_csv(users["me"].get("/api/v1/exports/submissions/member_intake").data)
    case = read_csv(users["case"].get("/api/v1/exports/submissions/member_intake").data)
    assert len(me) == len(case) == 1
    for column in ("family_name_km", "given_name_km", "name_latin", "phone", "origin_village_text",
                   "member_code"):
        assert column not in me[0] and column in case[0]
    assert case[0]["family_name_km"] == "ចាន់" and me[0]["sector"] == "karaoke"
    raw = users["me"].get("/api/v1/exports/submissions/member_intake").get_data(as_text=True)
    assert "ចាន់" not in raw and "0970001234" not in raw


def test_export__filters_as_the_submission_list_and_child_cases_hidden(
    db: Database, villages: list[uuid.UUID], users: dict[str, StaffClient]
) -> None:
    with db.transaction() as s:
        s.get(Submission, villages[1]).review_state = ReviewState.REJECTED
    only = read_csv(users["me"].get("/api/v1/exports/submissions/village_data?review_state=rejected").data)
    assert [row["village"] for row in only] == ["18010102"]
    commune = read_csv(users["me"].get("/api/v1/exports/submissions/village_data?commune=180101").data)
    assert len(commune) == 2
    send(db, "village_data", village_report(village="18010103", n_left_under18="1"), by="V18010101")  # U18-V
    assert len(read_csv(users["case"].get("/api/v1/exports/submissions/village_data").data)) == 2
    assert len(read_csv(users["child_protection"].get("/api/v1/exports/submissions/village_data").data)) == 3


def test_export__audited_with_its_filter(db: Database, villages: list, users: dict) -> None:
    users["me"].get("/api/v1/exports/submissions/village_data?commune=180101&labels=en")
    with db.sessionmaker() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "export.submissions"))
    assert entry.object_id == "village_data"
    assert json.loads(entry.reason) == {"commune": "180101", "format": "csv", "labels": "en"}


def test_export__postgresql_sends_the_rows_in_binary(db: Database, villages: list, users: dict) -> None:
    """The XML is bytea: in text format PostgreSQL would send (and psycopg decode) twice as many
    hex digits. Only the export's streamed query asks for binary rows."""
    if db.is_sqlite:
        pytest.skip("a PostgreSQL wire format")
    from psycopg import pq
    from sqlalchemy import Engine, event

    formats: list[tuple[bool, Any]] = []

    def seen(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
        formats.append(("submission_versions.xml" in statement, cursor.format))

    event.listen(Engine, "after_cursor_execute", seen)  # the app has its own engine
    try:
        r = users["case"].get("/api/v1/exports/submissions/village_data?format=csv")
        rows = read_csv(r.data)
    finally:
        event.remove(Engine, "after_cursor_execute", seen)
    assert [row["village"] for row in rows] == ["18010101", "18010102"]
    assert (True, pq.Format.BINARY) in formats
    assert all(fmt == pq.Format.TEXT for is_export, fmt in formats if not is_export)


def test_export__unknown_form_or_table_is_404_before_streaming(users: dict) -> None:
    assert users["me"].get("/api/v1/exports/submissions/nope").status_code == 404
    assert users["me"].get("/api/v1/exports/submissions/village_data?table=nope").status_code == 404
    assert users["me"].get("/api/v1/exports/submissions/village_data?format=pdf").status_code == 422


def test_cli_export__csv_to_file(db: Database, villages: list, tmp_path: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.setenv("SAHAKUM_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(tmp_path))
    out = tmp_path / "v.csv"
    result = CliRunner().invoke(main, ["export", "submissions", "village_data", "--table", "new_venue",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_csv(out.read_bytes())
    assert len(rows) == 2 and "nv_name" not in rows[0]  # the default role is me


def test_case_export__codes_for_me_names_for_case_child_cases_for_child_role(
    db: Database, users: dict[str, StaffClient]
) -> None:
    send(db, "member_intake", intake(health_now="yes"))
    send(db, "village_data", village_report(village="18010103", n_left_under18="1"), by="V18010101")  # U18-V
    me = read_csv(users["me"].get("/api/v1/exports/cases/members").data)
    case = read_csv(users["case"].get("/api/v1/exports/cases/members").data)
    assert me[0]["member_code"] == "7K3Q9M-X" and me[0]["report_group"] == "karaoke"
    assert "family_name_km" not in me[0] and "sector" not in me[0]
    assert case[0]["family_name_km"] == "ចាន់"
    cats = lambda role: sorted(r["category"] for r in read_csv(  # noqa: E731
        users[role].get("/api/v1/exports/cases/referrals").data))
    assert cats("case") == ["health"] and cats("child_protection") == ["child_protection", "health"]
    x = users["me"].get("/api/v1/exports/cases/workplaces?format=xlsx")
    assert load_workbook(io.BytesIO(x.data), read_only=True).sheetnames == ["workplaces"]
    assert users["me"].get("/api/v1/exports/cases/nope").status_code == 404
    with db.sessionmaker() as s:
        assert s.scalar(select(AuditEntry.reason).where(AuditEntry.action == "export.cases").limit(1))
