"""In Chromium: sign-in in Khmer, the language switch, role denial, CSRF refusal, lockout, the
idle timeout and sign-out; axe-core on the sign-in and work-queue pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from server.db.models import StaffUser
from server.db.session import Database
from tests.support.browser import UrlRecorder, assert_accessible, sign_in
from tests.support.web import make_staff_account


def staff_language(db: Database, name: str) -> str | None:
    with db.transaction() as s:
        return s.scalar(select(StaffUser.language).where(StaffUser.name == name))


def test_signin_page__khmer_by_default_with_the_self_hosted_font_and_accessible(page: Any, base_url: str):
    page.goto(base_url + "/")
    assert page.locator("html").get_attribute("lang") == "km"
    assert page.title().startswith("ចូល")
    page.evaluate("document.fonts.ready")
    button = page.locator("form[action='/signin'] button")
    assert "Noto Sans Khmer" in button.evaluate("b => getComputedStyle(b).fontFamily")
    assert page.evaluate("document.fonts.check(\"16px 'Noto Sans Khmer'\", 'ចូល')")
    assert_accessible(page)


def test_signin__case_worker_reaches_the_work_queue_with_a_role_menu(
    db: Database, page: Any, base_url: str, recorder: UrlRecorder
):
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    assert page.url == base_url + "/"
    assert page.locator("h1").inner_text() == "ការងារត្រូវធ្វើ"
    menu = page.get_by_role("navigation", name="ម៉ឺនុយមេ")
    assert menu.get_by_role("link", name="កំណត់ត្រាស្ទួន").count() == 1
    assert_accessible(page)
    recorder.assert_free_of(["cw1"])  # the account name is not in any URL or title either


def test_language_switch__english_on_every_page_and_remembered_after_signing_in_again(
    db: Database, page: Any, base_url: str, context_factory: Callable[..., Any]
):
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Duplicates").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Possible duplicates"
    assert staff_language(db, "cw1") == "en"
    page.get_by_role("button", name="Sign out").click()
    other = context_factory().new_page()  # another computer, Khmer browser
    sign_in(other, base_url, "cw1")
    assert other.locator("html").get_attribute("lang") == "en"
    other.get_by_role("button", name="ភាសាខ្មែរ").click()
    assert other.locator("html").get_attribute("lang") == "km"
    assert staff_language(db, "cw1") == "km"


def test_role_denial__me_role_gets_no_menu_entry_and_a_403_page(db: Database, page: Any, base_url: str):
    make_staff_account(db, "me1", "me")
    sign_in(page, base_url, "me1")
    assert page.get_by_role("link", name="កំណត់ត្រាស្ទួន").count() == 0
    response = page.goto(base_url + "/duplicates")
    assert response.status == 403
    assert "តួនាទីរបស់អ្នក" in page.locator("main").inner_text()
    assert_accessible(page)


def test_csrf__a_forged_form_is_refused_and_changes_nothing(db: Database, page: Any, base_url: str):
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    page.evaluate("""() => document.querySelectorAll("input[name=csrf_token]")
                              .forEach(i => i.value = "forged")""")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="English").click()
    assert nav.value.status == 400
    assert staff_language(db, "cw1") is None
    page.goto(base_url + "/")
    assert page.locator("html").get_attribute("lang") == "km"


def test_lockout__five_wrong_passwords_lock_even_the_right_one(db: Database, page: Any, base_url: str):
    make_staff_account(db, "cw1", "case")
    for _ in range(5):
        sign_in(page, base_url, "cw1", "wrong password 1234")
    assert "១៥ នាទី" in page.get_by_role("alert").inner_text()
    sign_in(page, base_url, "cw1")
    assert "១៥ នាទី" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="ចាកចេញ").count() == 0


def test_idle_timeout__the_next_page_asks_to_sign_in_again(
    db: Database, page: Any, server_factory: Callable[..., str]
):
    base_url = server_factory(SAHAKUM_WEB_IDLE_TIMEOUT=timedelta(seconds=2))
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    time.sleep(2.5)
    page.goto(base_url + "/duplicates")
    assert page.url.startswith(base_url + "/?next=")
    assert "៣០ នាទី" in page.get_by_role("status").inner_text()
    assert page.locator("input[name=password]").count() == 1


def test_signout__back_button_shows_nothing_personal(db: Database, page: Any, base_url: str):
    make_staff_account(db, "cw1", "case")
    sign_in(page, base_url, "cw1")
    page.goto(base_url + "/duplicates")
    page.get_by_role("button", name="ចាកចេញ").click()
    # Going back while the sign-out navigation is still running detaches the page: wait for it.
    page.locator("input[name=password]").wait_for()
    page.wait_for_load_state()
    page.go_back()  # no-store: the browser asks the server again, which wants a sign-in
    assert page.locator("input[name=password]").count() == 1
    assert page.locator("h1").inner_text() == "ចូល"


def test_setup_link__choose_a_password_then_sign_in(db: Database, page: Any, base_url: str):
    from server.accounts.passwords import issue_setup_token
    from server.accounts.staff import create_staff
    from server.db.models import StaffRole

    with db.transaction() as s:
        user, _token = create_staff(s, "cw9", StaffRole.CASE)
        token = issue_setup_token(s, user)
    page.goto(f"{base_url}/setup/{token}")
    assert page.title().startswith("ជ្រើសរើសពាក្យសម្ងាត់")
    assert_accessible(page)
    page.get_by_label("ពាក្យសម្ងាត់ថ្មី (យ៉ាងតិច ១២ តួអក្សរ)").fill("my own long password")
    page.get_by_label("ពាក្យសម្ងាត់ដដែលម្តងទៀត").fill("my own long password")
    page.get_by_role("button", name="រក្សាទុកពាក្យសម្ងាត់").click()
    assert page.url == base_url + "/"
    sign_in(page, base_url, "cw9", "my own long password")
    assert page.get_by_role("button", name="ចាកចេញ").count() == 1
    response = page.goto(f"{base_url}/setup/{token}")  # used once: gone
    assert response.status == 404
    assert_accessible(page)
