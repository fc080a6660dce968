"""The M&E officer enters savings deposits herself (issue 8's "not done until"): on the record
page and by import (web and API), naming the book by its number only. Nothing she sees there
carries the holder's name, nickname or phone; every stored change is audited; she still cannot
read members' personal data, nor enter books, groups or group members."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server.db.models import AuditEntry, SavingsBook, SavingsTransaction, StaffRole, StaffUser
from server.db.models.activities import RecipientType
from server.db.session import Database
from tests.support import staff_api
from tests.support.staff_api import StaffClient, make_member
from tests.support.web import WebClient, make_staff_account

users = staff_api.staff

# What the holder's records carry that the `me` role must never be shown (make_member's defaults).
PII = ("សុខ", "សុភា", "Sok Sophea", "Pov", "+85512345678", "12345678")
DEPOSITS = b"book_number,date,amount,currency\nB0001,2026-11-05,20000,KHR\nB0001,2026-11-19,5,USD\n"
BAD_DEPOSITS = b"book_number,date,amount,currency\nB0001,2026-10-01,20000,KHR\nNOPE,2026-11-05,5,USD\n"


@pytest.fixture
def book(db: Database) -> str:
    """Member M001 (with a name, a nickname and a phone) holds book B0001 since 2026-11-01."""
    with db.transaction() as s:
        member = make_member(s, "M001")
        s.add(SavingsBook(book_number="B0001", holder_type=RecipientType.MEMBER, member_id=member.id,
                          issued_date=date(2026, 11, 1)))
        return str(member.id)


def no_pii(text: str) -> None:
    leaked = [p for p in PII if p in text]
    assert not leaked, f"the me role was shown {leaked}"


def upload(user: StaffClient, kind: str, content: bytes, **form: str) -> object:
    return user.client.post(f"/api/v1/imports/{kind}", headers={"Authorization": f"Bearer {user.token}"},
                            data={"file": (io.BytesIO(content), "deposits.csv"), **form},
                            content_type="multipart/form-data")


def deposits(db: Database) -> list[int]:
    with db.sessionmaker() as s:
        return sorted(int(t.amount) for t in s.scalars(select(SavingsTransaction)))


def audited(db: Database, actor: str) -> list[str]:
    with db.sessionmaker() as s:
        stmt = select(AuditEntry.action).join(StaffUser).where(StaffUser.name == actor)
        return list(s.scalars(stmt.order_by(AuditEntry.id)))


def test_me_api__imports_deposits_by_book_number_without_names_and_cannot_read_members(
        db: Database, users: dict, book: str) -> None:
    me = users["me"]
    bad = upload(me, "savings_deposits", BAD_DEPOSITS)
    assert bad.status_code == 422 and deposits(db) == []
    assert {(e["row"], e["column"]) for e in bad.json["errors"]} == {(2, "date"), (3, "book_number")}
    no_pii(bad.get_data(as_text=True))
    preview = upload(me, "savings_deposits", DEPOSITS, dry_run="true")
    assert preview.status_code == 200 and preview.json["valid"] and deposits(db) == []
    assert [r["book_number"] for r in preview.json["preview"]] == ["B0001", "B0001"]
    no_pii(preview.get_data(as_text=True))
    stored = upload(me, "savings_deposits", DEPOSITS)
    assert stored.status_code == 201 and deposits(db) == [5, 20000]
    no_pii(stored.get_data(as_text=True))
    assert "import.apply" in audited(db, "test-me")
    undo = me.client.delete(f"/api/v1/imports/{stored.json['batch_id']}",
                            headers={"Authorization": f"Bearer {me.token}"})
    assert undo.status_code == 200 and deposits(db) == []
    assert audited(db, "test-me")[-1] == "import.undo"
    # Members stay pseudonymous to her (codes, no personal data), and other savings records closed.
    for url in (f"/api/v1/members/{book}", "/api/v1/members?code=M001"):
        r = me.get(url)
        assert r.status_code == 200 and "M001" in r.get_data(as_text=True)
        no_pii(r.get_data(as_text=True))
    for kind in ("savings_books", "savings_groups", "savings_members", "gatekeepers"):
        assert upload(me, kind, b"x\n1\n").status_code == 403, kind
    # The rule is the role's: child protection enters no records at all.
    assert upload(users["child_protection"], "savings_deposits", DEPOSITS).status_code == 403


@pytest.fixture
def me_web(client: FlaskClient, db: Database) -> WebClient:
    make_staff_account(db, "me1", StaffRole.ME)
    w = WebClient(client)
    w.sign_in("me1")
    return w


def test_me_web__record_page_and_import_of_deposits_show_no_names_and_are_audited(
        db: Database, me_web: WebClient, book: str) -> None:
    page = me_web.get("/records/savings_deposits/new")
    assert page.status_code == 200 and 'name="book_number"' in page.get_data(as_text=True)
    no_pii(page.get_data(as_text=True))
    form = {"book_number": "B0001", "date": "2026-11-05", "amount": "២០០០០", "currency": "KHR"}
    wrong = me_web.post("/records/savings_deposits/new", form | {"date": "2026-10-01"},
                        from_page="/records/savings_deposits/new")
    assert "កាលបរិច្ឆេទនេះនៅមុនថ្ងៃចេញសៀវភៅ។" in wrong.get_data(as_text=True) and deposits(db) == []
    no_pii(wrong.get_data(as_text=True))
    saved = me_web.post("/records/savings_deposits/new", form, from_page="/records/savings_deposits/new")
    assert saved.status_code == 302 and deposits(db) == [20000]
    assert audited(db, "me1")[-1] == "record.create"

    imports = me_web.get("/imports").get_data(as_text=True)
    assert 'value="savings_deposits"' in imports and 'value="savings_books"' not in imports
    no_pii(imports)
    for sheet in (BAD_DEPOSITS, DEPOSITS):
        r = me_web.client.post("/imports/preview", data={
            "csrf_token": me_web.token("/imports"), "kind": "savings_deposits",
            "file": (io.BytesIO(sheet), "deposits.csv")}, content_type="multipart/form-data")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "B0001" in html
        no_pii(html)
    assert "គ្មានសៀវភៅសន្សំណាមានលេខកូដនេះទេ។" not in html  # the good sheet (Khmer page)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    applied = me_web.post("/imports/apply", {"kind": "savings_deposits", "token": token},
                          from_page="/imports")
    assert applied.status_code == 302 and deposits(db) == [5, 20000, 20000]
    assert audited(db, "me1")[-1] == "import.apply"
    no_pii(me_web.get("/imports").get_data(as_text=True))
    # Her view of the member is the code alone, and books are entered by case workers.
    member = me_web.get(f"/members/{book}")
    assert member.status_code == 200 and "M001" in member.get_data(as_text=True)
    no_pii(member.get_data(as_text=True))
    assert me_web.get("/records/savings_books/new").status_code == 404
