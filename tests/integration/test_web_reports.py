"""The staff pages of programme reporting: enter a record, import with a preview then apply,
undo, the indicator report with downloads, freezing and the frozen copy; Khmer and English."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.accounts.staff import create_staff
from server.db.models import Course, CourseCategory, ImportBatch, StaffRole, TrainingSession
from server.db.session import Database
from tests.support.web import WebClient, make_staff_account, title_of

SESSIONS = ("session_code,course_code,date,target_group,anonymous_headcount\n"
            "S1,AW1,2026-11-03,karaoke_workers,១២\nS2,AW1,2026-11-04,karaoke_workers,3\n")


@pytest.fixture
def web(client: FlaskClient, db: Database) -> WebClient:
    with db.transaction() as s:
        s.add(Course(course_code="AW1", title="Rights", category=CourseCategory.AWARENESS))
    make_staff_account(db, "me1", "me")
    w = WebClient(client)
    w.sign_in("me1")
    return w


def figures(html: str) -> str:
    """The report's indicators as rendered (the page around them carries fresh CSRF tokens)."""
    return html[html.index('<section class="indicator"'):html.rindex("</section>")]


def sessions(db: Database) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(TrainingSession)) or 0


def upload(web: WebClient, kind: str, content: bytes) -> str:
    r = web.client.post("/imports/preview", data={
        "csrf_token": web.token("/imports"), "kind": kind, "file": (io.BytesIO(content), "sheet.csv"),
    }, content_type="multipart/form-data")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_import_page__preview_stores_nothing_apply_stores_all_undo_removes(db: Database, web: WebClient):
    html = upload(web, "sessions", SESSIONS.encode())
    assert sessions(db) == 0 and ">12<" in html  # Khmer digits shown as read
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    r = web.post("/imports/apply", {"kind": "sessions", "token": token}, from_page="/imports")
    assert r.status_code == 302 and sessions(db) == 2
    with db.sessionmaker() as s:
        batch = s.scalar(select(ImportBatch))
    page = web.get("/imports").get_data(as_text=True)
    assert f"/imports/{batch.id}/undo" in page
    web.post(f"/imports/{batch.id}/undo", from_page="/imports")
    assert sessions(db) == 0


def test_import_page__bad_row_named_and_no_apply_button(db: Database, web: WebClient):
    html = upload(web, "sessions", b"session_code,course_code,date,target_group\nS1,NOPE,2026-11-03,pe\n")
    assert "គ្មានវគ្គសិក្សាណាមានលេខកូដនេះទេ។" in html and 'name="token"' not in html  # Khmer by default
    assert sessions(db) == 0


BAD_SESSIONS = ("session_code,course_code,date,target_group,anonymous_headcount\n"
                "S1,NOPE,2026-11-03,karaoke_workers,1\n"  # unknown course
                "S2,AW1,3 Nov,karaoke_workers,1\n"  # not a date
                "S3,AW1,2026-11-03,nobody,-1\n"  # not a target group, not a whole number
                "S3,AW1,2026-11-03,karaoke_workers,\n"  # the same code as the row before
                ",AW1,2026-11-03,karaoke_workers,1\n")  # a required cell left empty


def test_import_errors__reasons_in_khmer_for_a_khmer_reader_english_codes_in_the_api(
    db: Database, web: WebClient, client: FlaskClient
) -> None:
    web.post("/language", {"lang": "km", "next": "/"}, from_page="/imports")
    khmer = upload(web, "sessions", BAD_SESSIONS.encode())
    for reason in ("គ្មានវគ្គសិក្សាណាមានលេខកូដនេះទេ។",
                   "មិនមែនជាកាលបរិច្ឆេទទេ៖ សូមសរសេរជា 2026-11-03 ឬ 3/11/2026។",
                   "ត្រូវតែជាមួយក្នុងចំណោម៖ women_in_prostitution, karaoke_workers, pe, gatekeepers, "
                   "local_authorities។",
                   "ត្រូវការចំនួនគត់ ចាប់ពី 0 ឡើងទៅ។",
                   "តម្លៃដូចគ្នានេះមានរួចហើយនៅជួរដេកទី 4។",
                   "ក្រឡានេះទទេ ប៉ុន្តែត្រូវតែបំពេញ។"):
        assert reason in khmer, reason
    problems = khmer[khmer.index('id="errors-caption"'):khmer.index("</table>")]
    assert "has this code" not in problems and "Not a date" not in problems and 'lang="en">' not in problems
    assert sessions(db) == 0
    web.post("/language", {"lang": "en", "next": "/"}, from_page="/imports")
    english = upload(web, "sessions", BAD_SESSIONS.encode())
    assert "No course has this code." in english and "The same value is already in row 4." in english
    assert "គ្មានវគ្គសិក្សា" not in english
    # The API keeps the English reasons (and the row and column) whatever the reader's language.
    with db.transaction() as s:
        _user, token = create_staff(s, "me-api", StaffRole.ME)
    r = client.post("/api/v1/imports/sessions", headers={"Authorization": f"Bearer {token}"},
                    data={"dry_run": "true", "file": (io.BytesIO(BAD_SESSIONS.encode()), "s.csv")},
                    content_type="multipart/form-data")
    assert {"row": 2, "column": "course_code", "reason": "No course has this code."} in r.json["errors"]


def test_record_page__one_session_entered_with_the_import_checks(db: Database, web: WebClient):
    page = web.get("/records/sessions/new").get_data(as_text=True)
    assert 'name="target_group"' in page and "karaoke_workers" in page
    form = {"session_code": "S9", "course_code": "AW1", "date": "2026-11-09", "target_group": "pe",
            "anonymous_headcount": "៤"}
    r = web.post("/records/sessions/new", form, from_page="/records/sessions/new")
    assert r.status_code == 302 and sessions(db) == 1
    again = web.post("/records/sessions/new", form, from_page="/records/sessions/new")
    assert "លេខកូដនេះមានរួចហើយនៅក្នុងមូលដ្ឋានទិន្នន័យ។" in again.get_data(as_text=True) and sessions(db) == 1


def test_record_page__books_not_for_the_me_role_deposits_are(web: WebClient):
    assert web.get("/records/savings_books/new").status_code == 404
    assert web.get("/records/savings_deposits/new").status_code == 200


def test_report_page__figures_downloads_freeze_in_khmer_and_english(db: Database, web: WebClient):
    upload_html = upload(web, "sessions", SESSIONS.encode())
    token = re.search(r'name="token" value="([0-9a-f]{32})"', upload_html).group(1)
    web.post("/imports/apply", {"kind": "sessions", "token": token}, from_page="/imports")
    html = web.get("/reports/indicators?period=2026-11").get_data(as_text=True)
    assert "វគ្គលើកកម្ពស់ការយល់ដឹង" in html  # indicator 4's title in Khmer (the default)
    assert "2026-11" not in title_of(html)  # titles carry no parameters
    csv = web.get("/reports/indicators/download.csv?period=2026-11&external=1")
    assert csv.data.startswith("\ufeff".encode()) and "<5" in csv.data.decode("utf-8-sig")
    web.post("/language", {"lang": "en", "next": "/"}, from_page="/reports/indicators")
    english = web.get("/reports/indicators?period=2026-11").get_data(as_text=True)
    assert "Awareness-raising courses" in english and "Possible duplicates pending" in english
    r = web.post("/reports/snapshots", {"period": "2026-11"}, from_page="/reports/indicators?period=2026-11")
    assert r.status_code == 302
    frozen = r.headers["Location"]
    before = web.get(frozen).get_data(as_text=True)
    assert re.search(r"[0-9a-f]{64}", before)
    upload_html = upload(web, "sessions",
                         b"session_code,course_code,date,target_group\nS3,AW1,2026-11-05,pe\n")
    token = re.search(r'name="token" value="([0-9a-f]{32})"', upload_html).group(1)
    web.post("/imports/apply", {"kind": "sessions", "token": token}, from_page="/imports")
    after = web.get(frozen).get_data(as_text=True)
    assert figures(after) == figures(before) and "S3" not in after
    now = figures(web.get("/reports/indicators?period=2026-11").get_data(as_text=True))
    assert now != figures(before)  # the live report moved on, the frozen one did not


def test_report_page__bad_period_explained(web: WebClient):
    html = web.get("/reports/indicators?period=November").get_data(as_text=True)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html


def test_submissions_page__download_button_exports_the_filtered_form(db: Database, client: FlaskClient,
                                                                      published_forms: dict):
    from tests.integration.test_merge_village import report as village_report
    from tests.integration.test_reports_exports import read_csv, send

    send(db, "village_data", village_report(), by="V18010101")
    send(db, "village_data", village_report(village="18010102"), by="V18010101")
    make_staff_account(db, "cw1", "case")
    w = WebClient(client)
    w.sign_in("cw1")
    page = w.get("/submissions?form=village_data").get_data(as_text=True)
    assert "/submissions/export.csv?form=village_data" in page
    r = w.get("/submissions/export.csv?form=village_data&commune=180101")
    rows = read_csv(r.data)
    assert r.status_code == 200 and len(rows) == 2 and rows[0]["reporter_role"].startswith("មេភូមិ")
    assert w.get("/submissions/export.csv").status_code == 404  # one form at a time


def test_entry_and_preview_pages__columns_named_in_khmer_and_english(web: WebClient):
    """Every column of every kind the role may enter has words in both languages, shown with
    the template's column name; the import preview and its errors name columns the same way."""
    from server.reports.import_kinds import KINDS
    from server.web.column_labels import COLUMN_LABELS

    assert {c.name for k in KINDS.values() for c in k.columns} <= set(COLUMN_LABELS)
    khmer = web.get("/records/sessions/new").get_data(as_text=True)
    assert "លេខកូដវគ្គ" in khmer and "ក្រុមគោលដៅ" in khmer and "session_code" in khmer
    preview = upload(web, "sessions", b"session_code,course_code,date,target_group\nS1,NOPE,2026-11-03,pe\n")
    assert "លេខកូដវគ្គសិក្សា" in preview  # the bad column, in Khmer, in the problems table
    web.post("/language", {"lang": "en", "next": "/"}, from_page="/records/sessions/new")
    english = web.get("/records/sessions/new").get_data(as_text=True)
    assert "Session code" in english and "Target group" in english and "លេខកូដវគ្គ" not in english
