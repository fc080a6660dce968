"""Issue 8's "not done until", in Chromium, without a programmer: the M&E officer enters a
month's training sessions on the web pages and imports an attendance sheet; a case worker (the
role that keeps savings books and their holders) issues a savings book; the M&E officer enters
the month's two deposits herself by book number, seeing no holder's name; she reads the month's
indicator report in Khmer and in English with every method shown, downloads the external
version with small cells as "<5", freezes it, and after more data arrives the frozen report
shows the same figures and the same SHA-256."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from server.db.models import Course, CourseCategory, Member, MemberStatus
from server.db.session import Database
from tests.support.browser import assert_accessible, sign_in
from tests.support.web import make_staff_account

MEMBERS = ("M001", "M002", "M003", "M004", "M005", "M006")
HOLDER = "Sok Dara"  # M001's name, which the M&E officer must never be shown
ATTENDANCE = "session_code,member_code\n" + "".join(f"S1,{m}\n" for m in MEMBERS) + "S2,M001\nS2,M002\n"


def enter(page: Any, base_url: str, kind: str, values: dict[str, str]) -> None:
    """Fill one record's form as a person would and save it."""
    page.goto(f"{base_url}/records/{kind}/new")
    for name, value in values.items():
        field = page.locator(f"#f-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.locator(f"form[action='/records/{kind}/new'] button[type=submit]").click()
    page.wait_for_load_state()
    assert not page.locator("[aria-invalid=true]").count(), page.locator("main").inner_text()


def read_report_csv(path: str) -> dict[tuple[str, str], list[str]]:
    """Values by (indicator number, breakdown), in the report's order (labels are translated)."""
    text = Path(path).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["indicator", "title", "label", "breakdown", "value", "method"]
    out: dict[tuple[str, str], list[str]] = {}
    for row in rows[2:]:
        assert row[0] == "" or row[5], "every figure comes with its method"
        out.setdefault((row[0], row[3]), []).append(row[4])
    return out


def figures(page: Any) -> list[str]:
    return [s.inner_text() for s in page.locator("section.indicator").all()]


def test_me_officer_month_of_records_to_a_frozen_report(db: Database, context_factory: Callable[..., Any],
                                                        base_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect  # installed with the test extra, like the browser

    with db.transaction() as s:
        s.add(Course(course_code="AW1", title="Rights", category=CourseCategory.AWARENESS))
        for code in MEMBERS:  # members come from the intake form; their codes are printed on cards
            s.add(Member(member_code=code, sector="karaoke", status=MemberStatus.ACTIVE,
                         intake_date=date(2026, 10, 1), name_latin_raw=HOLDER if code == "M001" else None))
    make_staff_account(db, "me1", "me")
    make_staff_account(db, "case1", "case")

    # --- the M&E officer: sessions on the entry page, attendance from a sheet -----------------
    me = context_factory(accept_downloads=True).new_page()
    sign_in(me, base_url, "me1")
    me.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="កំណត់ត្រា និងការនាំចូល").click()
    expect(me.locator("main")).to_contain_text("ការដាក់ និងដកប្រាក់សន្សំ")  # deposits: she enters them
    assert "សៀវភៅសន្សំ" not in me.get_by_label("ប្រភេទកំណត់ត្រា").inner_text()  # books: case workers
    for code, day, group, heads in (("S1", "2026-11-03", "karaoke_workers", "3"),
                                    ("S2", "2026-11-17", "karaoke_workers", "១")):
        enter(me, base_url, "sessions", {"session_code": code, "course_code": "AW1", "date": day,
                                         "target_group": group, "commune_code": "180101",
                                         "anonymous_headcount": heads})
    me.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="កំណត់ត្រា និងការនាំចូល").click()
    sheet = tmp_path / "attendance.csv"
    sheet.write_text(ATTENDANCE, encoding="utf-8")
    me.get_by_label("ប្រភេទកំណត់ត្រា").select_option("attendance")
    me.get_by_label("ឯកសារ CSV ឬ XLSX (ជួរទីមួយ៖ ជួរឈររបស់គំរូ)").set_input_files(str(sheet))
    me.get_by_role("button", name="ពិនិត្យ និងមើលជាមុន").click()
    assert "M006" in me.get_by_role("table").inner_text()
    assert_accessible(me)
    me.locator("form[action='/imports/apply'] button[type=submit]").click()
    assert "បានរក្សាទុក 8 ជួរ" in me.get_by_role("status").inner_text()

    # --- a case worker issues a savings book; the M&E officer enters its two deposits ------------
    case = context_factory().new_page()
    sign_in(case, base_url, "case1")
    enter(case, base_url, "savings_books", {"book_number": "B0001", "holder_type": "member",
                                            "member_code": "M001", "issued_date": "2026-11-05"})
    for day, amount in (("2026-11-05", "20000"), ("2026-11-19", "១០០០០")):
        enter(me, base_url, "savings_deposits", {"book_number": "B0001", "date": day, "amount": amount,
                                                 "currency": "KHR"})
        assert HOLDER not in me.content()  # the book by its number, never its holder

    # --- the month's report, in Khmer then English, internal then external ----------------------
    me.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="របាយការណ៍សូចនាករ").click()
    me.get_by_label("រយៈពេល").fill("2026-11")
    me.get_by_role("button", name="បង្ហាញរបាយការណ៍").click()
    sections = me.locator("section.indicator")
    expect(sections).to_have_count(18)  # waits for the report page, not the form it came from
    assert all(m.strip() for m in me.locator("section.indicator p.method span").all_inner_texts())
    assert me.locator("html").get_attribute("lang") == "km"
    with me.expect_download() as got:
        me.get_by_role("link", name="ទាញយក CSV").click()
    khmer = read_report_csv(got.value.path())
    # 5: six members at S1 and two again at S2 (six distinct) + headcounts 3 and 1; 8: one book.
    assert khmer[("5", "total")] == ["10", "12"]  # participants, then attendances
    assert khmer[("4", "total")] == ["2"] and khmer[("8", "total")] == ["1"]
    assert "វគ្គ" in Path(got.value.path()).read_bytes().decode("utf-8-sig")
    assert any("វគ្គ" in title for title in me.locator("section.indicator h2").all_inner_texts())

    me.get_by_role("button", name="English").click()
    expect(me.locator("html")).to_have_attribute("lang", "en")
    me.get_by_label("Period").fill("2026-11")
    me.get_by_label("External version (cells under 5 and child-protection figures shown as <5)").check()
    me.get_by_role("button", name="Show the report").click()
    expect(me.locator("main")).to_contain_text("Awareness-raising courses")
    assert "Method" in me.locator("section.indicator").first.inner_text()
    with me.expect_download() as got:
        me.get_by_role("link", name="Download CSV").click()
    external = read_report_csv(got.value.path())
    assert external[("5", "total")] == ["10", "12"]
    assert external[("4", "total")] == ["<5"] and external[("8", "total")] == ["<5"]
    assert all(v == "<5" for (n, _), values in external.items() if n == "13" for v in values)  # child
    assert_accessible(me)

    # --- frozen, then more data: the snapshot does not move -----------------------------------
    me.get_by_role("button", name="Freeze this report").click()
    me.wait_for_url(re.compile(r".*/reports/snapshots/.*"))
    snapshot_url = me.url
    frozen_text = me.locator("main").inner_text()
    sha = re.search(r"[0-9a-f]{64}", frozen_text)
    assert sha, "the snapshot shows its SHA-256"
    frozen = figures(me)
    enter(me, base_url, "sessions", {"session_code": "S3", "course_code": "AW1", "date": "2026-11-24",
                                     "target_group": "women_in_prostitution", "anonymous_headcount": "40"})
    me.goto(f"{base_url}/reports/indicators?period=2026-11&external=1")
    assert figures(me) != frozen  # the live report moved on
    me.goto(snapshot_url)
    assert figures(me) == frozen and sha.group(0) in me.locator("main").inner_text()
