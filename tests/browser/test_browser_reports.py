"""In Chromium: the M&E officer imports a sessions sheet (preview, then apply), opens the month's
indicator report, downloads it and freezes it; axe on each screen; print emulation hides the
menus and keeps every indicator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.db.models import Course, CourseCategory
from server.db.session import Database
from tests.support.browser import assert_accessible, sign_in
from tests.support.web import make_staff_account

SHEET = ("session_code,course_code,date,target_group,anonymous_headcount\n"
         "S1,AW1,២០២៦-១១-០៣,karaoke_workers,១២\nS2,AW1,2026-11-04,women_in_prostitution,3\n")


def test_import_a_sheet_then_read_and_freeze_the_report(db: Database, page: Any, base_url: str,
                                                        tmp_path: Path):
    with db.transaction() as s:
        s.add(Course(course_code="AW1", title="Rights", category=CourseCategory.AWARENESS))
    make_staff_account(db, "me1", "me")
    sign_in(page, base_url, "me1")
    page.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="កំណត់ត្រា និងការនាំចូល").click()
    assert_accessible(page)
    sheet = tmp_path / "sessions.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    page.get_by_label("ប្រភេទកំណត់ត្រា").select_option("sessions")
    page.get_by_label("ឯកសារ CSV ឬ XLSX (ជួរទីមួយ៖ ជួរឈររបស់គំរូ)").set_input_files(str(sheet))
    page.get_by_role("button", name="ពិនិត្យ និងមើលជាមុន").click()
    assert "12" in page.get_by_role("table").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="អនុវត្ត៖ រក្សាទុក 2 ជួរនេះ").click()
    assert "បានរក្សាទុក 2 ជួរ" in page.get_by_role("status").inner_text()
    page.get_by_role("navigation", name="ម៉ឺនុយមេ").get_by_role("link", name="របាយការណ៍សូចនាករ").click()
    page.get_by_label("រយៈពេល").fill("2026-11")
    page.get_by_role("button", name="បង្ហាញរបាយការណ៍").click()
    assert page.locator("section.indicator").count() == 18
    assert "វគ្គលើកកម្ពស់ការយល់ដឹង" in page.locator("main").inner_text()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="ទាញយក CSV").click()
    assert Path(download.value.path()).read_bytes().startswith("\ufeff".encode())
    page.emulate_media(media="print")
    assert not page.locator("nav.menu").is_visible()
    assert page.locator("section.indicator").nth(17).is_visible()
    page.emulate_media(media="screen")
    page.get_by_role("button", name="រក្សារបាយការណ៍នេះទុកមិនឱ្យប្រែប្រួល").click()
    assert "/reports/snapshots/" in page.url and "SHA-256" in page.locator("main").inner_text()
    assert_accessible(page)
