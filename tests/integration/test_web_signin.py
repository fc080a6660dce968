"""Staff sign-in on the web pages: passwords, set-up links, sessions, CSRF, lockout, headers,
language. Driven through the Flask test client (the browser tests repeat the key flows)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.accounts import passwords
from server.cli import main
from server.config import Settings
from server.db.models import AuditEntry, StaffUser, utcnow
from server.db.session import Database
from server.web import security
from tests.support.web import PASSWORD, WebClient, csrf_from, make_staff_account, title_of


@pytest.fixture
def web(client: FlaskClient) -> WebClient:
    return WebClient(client)


def staff_row(db: Database, name: str) -> StaffUser:
    with db.transaction() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.name == name))
        assert user is not None
        s.expunge(user)
        return user


def test_home__signed_out__is_the_signin_form_in_khmer(web: WebClient):
    r = web.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<html lang="km">' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert title_of(html).startswith("ចូល")


def test_home__signed_out__english_when_the_browser_prefers_it(web: WebClient):
    html = web.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,km;q=0.5"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Sign in</h1>" in html
    html = web.get("/", headers={"Accept-Language": "km-KH,km;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="km">' in html


def test_signin__right_password__opens_the_work_queue_and_is_audited(db: Database, web: WebClient):
    staff_id = make_staff_account(db, "cw1", "case")
    r = web.sign_in("cw1")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    html = web.get("/").get_data(as_text=True)
    assert 'href="/duplicates"' in html and 'action="/signout"' in html
    with db.transaction() as s:
        actions = [(a.action, a.actor_id) for a in s.scalars(select(AuditEntry))]
    assert ("staff.signin", staff_id) in actions


def test_signin__session_cookie_is_httponly_and_samesite_lax(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    cookie = web.sign_in("cw1").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_signin__cookie_is_secure_when_the_base_url_is_https(settings: Settings, db: Database):
    from dataclasses import replace

    from server import create_app

    app = create_app(replace(settings, base_url="https://sahakum.example.org"), {"TESTING": True})
    make_staff_account(db, "cw1", "case")
    cookie = WebClient(app.test_client()).sign_in("cw1").headers["Set-Cookie"]
    assert "Secure" in cookie
    app.extensions["sahakum_db"].dispose()


def test_signin__wrong_password_and_unknown_name__same_refusal(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    wrong = web.sign_in("cw1", "not the password at all")
    unknown = web.sign_in("nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "ឈ្មោះ ឬពាក្យសម្ងាត់មិនត្រឹមត្រូវទេ។"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert web.get("/duplicates").status_code == 302  # still signed out


def test_signin__five_failures_lock_the_account_for_15_minutes(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    for _ in range(4):
        assert web.sign_in("cw1", "wrong password 123").status_code == 401
    assert web.sign_in("cw1", "wrong password 123").status_code == 423
    # Locked: even the right password is refused, and nothing is counted meanwhile.
    r = web.sign_in("cw1")
    assert r.status_code == 423 and "១៥ នាទី" in r.get_data(as_text=True)
    locked_until = staff_row(db, "cw1").locked_until
    assert locked_until is not None
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)
    # 15 minutes later (the lock is stored in the database: any process sees it).
    with db.transaction() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.name == "cw1"))
        user.locked_until = utcnow() - timedelta(seconds=1)
    assert web.sign_in("cw1").status_code == 302


def test_signin__a_success_resets_the_failure_count(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    for _ in range(4):
        web.sign_in("cw1", "wrong password 123")
    assert web.sign_in("cw1").status_code == 302
    assert staff_row(db, "cw1").failed_signins == 0


def test_post_without_csrf_token__is_refused_and_changes_nothing(
    db: Database, web: WebClient, client: FlaskClient
):
    make_staff_account(db, "cw1", "case")
    r = client.post("/signin", data={"username": "cw1", "password": PASSWORD})
    assert r.status_code == 400
    assert web.get("/duplicates").status_code == 302  # not signed in
    web.sign_in("cw1")
    r = client.post("/language", data={"lang": "en", "csrf_token": "forged"})
    assert r.status_code == 400
    assert staff_row(db, "cw1").language is None


def test_signout__ends_the_session(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    assert web.get("/duplicates").status_code == 200
    assert web.sign_out().status_code == 302
    r = web.get("/duplicates")
    assert r.status_code == 302 and r.headers["Location"].startswith("/?next=")


def test_session__ends_after_30_idle_minutes(db: Database, web: WebClient, monkeypatch: pytest.MonkeyPatch):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    now = security.time.time()
    monkeypatch.setattr(security.time, "time", lambda: now + 29 * 60)
    assert web.get("/duplicates").status_code == 200  # activity: the idle clock restarts
    monkeypatch.setattr(security.time, "time", lambda: now + 29 * 60 + 31 * 60)
    r = web.get("/duplicates")
    assert r.status_code == 302 and r.headers["Location"] == "/?next=/duplicates"
    html = web.get("/").get_data(as_text=True)
    assert "៣០ នាទី" in html  # the sign-in page says why


def test_session__ends_when_the_password_changes_or_the_account_is_revoked(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    with db.transaction() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.name == "cw1"))
        passwords.set_password(s, user, "another long password")
    assert web.get("/duplicates").status_code == 302


def test_pages__security_headers(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    for url in ("/", "/duplicates"):
        headers = web.get(url).headers
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Content-Type-Options"] == "nosniff"
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = web.get("/").get_data(as_text=True)
    assert "<script" not in html and " style=" not in html and " on" + "click=" not in html


def test_static_files__long_cache_and_the_font_is_served_here(web: WebClient):
    html = web.get("/").get_data(as_text=True)
    css_url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', html).group(1)
    r = web.get(css_url)
    assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
    css = r.get_data(as_text=True)
    assert "button, input, select, textarea { font: inherit; }" in css
    font = web.get("/static/fonts/noto-sans-khmer-khmer-400-normal.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"
    assert "max-age=31536000" in font.headers["Cache-Control"]


def test_role_denied__forbidden_page_and_no_menu_entry(db: Database, web: WebClient):
    make_staff_account(db, "me1", "me")
    web.sign_in("me1")
    assert 'href="/duplicates"' not in web.get("/").get_data(as_text=True)
    r = web.get("/duplicates")
    assert r.status_code == 403 and "តួនាទីរបស់អ្នក" in r.get_data(as_text=True)


def test_language_switch__remembered_for_the_person(db: Database, web: WebClient, client: FlaskClient):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    r = web.post("/language", {"lang": "en", "next": "/duplicates"})
    assert r.status_code == 302 and r.headers["Location"] == "/duplicates"
    assert '<html lang="en">' in web.get("/duplicates").get_data(as_text=True)
    assert staff_row(db, "cw1").language == "en"
    # A new session (another computer, after signing out) keeps it.
    web.sign_out()
    other = WebClient(client.application.test_client())
    other.sign_in("cw1")
    assert '<html lang="en">' in other.get("/").get_data(as_text=True)


def test_language_switch__refuses_an_outside_next_address(db: Database, web: WebClient):
    r = web.post("/language", {"lang": "en", "next": "//evil.example.org/"})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_signed_in_without_a_choice__khmer_even_if_the_browser_prefers_english(db: Database, web: WebClient):
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    html = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="km">' in html


def test_setup_link__sets_a_password_once(db: Database, web: WebClient, app: Flask):
    runner = CliRunner()
    env = {"SAHAKUM_DATABASE_URL": app.config["SAHAKUM"].database_url,
           "SAHAKUM_INSTANCE_DIR": str(app.config["SAHAKUM"].instance_dir),
           "SAHAKUM_BASE_URL": "https://sahakum.example.org"}
    out = runner.invoke(main, ["staff", "add", "cw2", "--role", "case", "--json"], env=env)
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert set(body) == {"name", "role", "token", "setup_url"}
    assert body["setup_url"].startswith("https://sahakum.example.org/setup/")
    path = body["setup_url"].removeprefix("https://sahakum.example.org")
    page = web.get(path)
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    short = web.client.post(path, data={"csrf_token": token, "password": "short",
                                        "password_confirm": "short"})
    assert short.status_code == 422
    ok = web.client.post(path, data={"csrf_token": token, "password": "a long new password",
                                     "password_confirm": "a long new password"})
    assert ok.status_code == 302
    assert web.get(path).status_code == 404  # used: the link works once
    assert web.sign_in("cw2", "a long new password").status_code == 302


def test_setup_link__expires_after_24_hours(db: Database, web: WebClient):
    with db.transaction() as s:
        from server.accounts.staff import create_staff
        from server.db.models import StaffRole

        user, _ = create_staff(s, "cw3", StaffRole.CASE)
        token = passwords.issue_setup_token(s, user, now=utcnow() - timedelta(hours=24, seconds=1))
    assert web.get(f"/setup/{token}").status_code == 404


def test_cli_set_password__reads_stdin_and_refuses_short_ones(db: Database, app: Flask, web: WebClient):
    make_staff_account(db, "cw1", "case")
    env = {"SAHAKUM_DATABASE_URL": app.config["SAHAKUM"].database_url,
           "SAHAKUM_INSTANCE_DIR": str(app.config["SAHAKUM"].instance_dir)}
    runner = CliRunner()
    short = runner.invoke(main, ["staff", "set-password", "cw1"], input="too short\n", env=env)
    assert short.exit_code != 0 and "12 characters" in short.output
    out = runner.invoke(main, ["staff", "set-password", "cw1"], input="a brand new password\n", env=env)
    assert out.exit_code == 0, out.output
    assert web.sign_in("cw1", "a brand new password").status_code == 302
    assert staff_row(db, "cw1").password_hash.startswith("$argon2id$")


def test_api_and_openrosa_are_unaffected_by_the_web_pages(client: FlaskClient):
    r = client.get("/api/v1/members")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "auth.unauthenticated"
    r = client.get("/v1/key/" + "x" * 64 + "/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/xml")


@pytest.mark.postgres_only
def test_lockout__failures_counted_across_processes_at_the_same_moment(db: Database):
    """Five wrong passwords sent at once through five connections (as several app processes
    would see them) still lock the account: the count is not lost to concurrent updates."""
    from concurrent.futures import ThreadPoolExecutor

    make_staff_account(db, "cw1", "case")

    def attempt(_: int) -> passwords.SignIn:
        with db.transaction() as s:
            return passwords.sign_in(s, "cw1", "wrong password 123").outcome

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(attempt, range(5)))
    assert outcomes.count(passwords.SignIn.LOCKED) == 1
    assert staff_row(db, "cw1").locked_until is not None
