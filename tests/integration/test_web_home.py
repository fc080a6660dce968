"""The work queue at `/`: counts from casework.workqueue per role, linked to their lists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from server.db.models import utcnow
from server.db.models.cases import Priority
from server.db.session import Database
from tests.support.staff_api import make_referral
from tests.support.web import WebClient, make_staff_account, seed_member_pair


@pytest.fixture
def web(client: FlaskClient) -> WebClient:
    return WebClient(client)


def count_of(html: str, label: str) -> int:
    match = re.search(r'<span class="n">([\d,]+)</span>\s*<span class="label">' + re.escape(label), html)
    assert match, f"no tile {label!r}"
    return int(match.group(1).replace(",", ""))


URGENT = "Urgent referrals waiting to be acknowledged"
OVERDUE = "Urgent referrals past the 24-hour target"


def seed(db: Database) -> None:
    with db.transaction() as s:
        make_referral(s, "C-0001", "child_protection", priority=Priority.URGENT,
                      created_at=utcnow() - timedelta(hours=30))
        make_referral(s, "C-0002", "health", priority=Priority.URGENT)


def english(web: WebClient) -> None:
    web.post("/language", {"lang": "en"})


def test_work_queue__child_protection_counts_only_for_that_role(db: Database, client: FlaskClient):
    seed(db)
    make_staff_account(db, "cw1", "case")
    make_staff_account(db, "cp1", "child_protection")
    case, child = WebClient(client), WebClient(client.application.test_client())
    case.sign_in("cw1")
    child.sign_in("cp1")
    english(case)
    english(child)
    case_html = case.get("/").get_data(as_text=True)
    child_html = child.get("/").get_data(as_text=True)
    assert count_of(case_html, URGENT) == 1 and count_of(case_html, OVERDUE) == 0
    assert count_of(child_html, URGENT) == 2 and count_of(child_html, OVERDUE) == 1
    assert "C-0001" not in case_html and "C-0001" not in child_html  # counts, not cases


def test_work_queue__duplicates_count_links_to_the_review_list(db: Database, web: WebClient):
    seed_member_pair(db)
    make_staff_account(db, "cw1", "case")
    web.sign_in("cw1")
    english(web)
    html = web.get("/").get_data(as_text=True)
    assert count_of(html, "Possible duplicates to review") == 1
    assert re.search(r'<a href="/duplicates">\s*<span class="n">1</span>', html)


def test_work_queue__me_role_gets_counts_without_links_it_cannot_open(db: Database, web: WebClient):
    make_staff_account(db, "me1", "me")
    web.sign_in("me1")
    english(web)
    html = web.get("/").get_data(as_text=True)
    assert count_of(html, "Possible duplicates to review") == 0
    assert 'href="/duplicates"' not in html
