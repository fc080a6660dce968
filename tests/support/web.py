"""Helpers for the staff web page tests (Flask test client and browser): accounts with
passwords, and a client that signs in and sends the CSRF token like the pages' forms do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.accounts.passwords import set_password
from server.accounts.staff import create_staff
from server.db.models import StaffRole
from server.db.session import Database

PASSWORD = "correct horse battery staple"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_staff_account(db: Database, name: str, role: StaffRole | str, password: str = PASSWORD) -> int:
    """A staff account that can sign in on the web pages; returns its id."""
    with db.transaction() as s:
        user, _token = create_staff(s, name, StaffRole(role))
        set_password(s, user, password)
        return user.id


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclass
class WebClient:
    """A Flask test client used like a browser: GET pages, POST forms with the page's token."""

    client: FlaskClient

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.client.get(url, **kw)

    def token(self, url: str = "/") -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any] | None = None, *, from_page: str = "/",
             **kw: Any) -> TestResponse:
        form = {"csrf_token": self.token(from_page), **(data or {})}
        return self.client.post(url, data=form, **kw)

    def sign_in(self, name: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/signin", {"username": name, "password": password})

    def sign_out(self) -> TestResponse:
        return self.post("/signout")


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    return match.group(1) if match else ""


def seed_member_pair(db: Database) -> dict[str, Any]:
    """Two member records of (fictional) Sok Sophea / Sok Sophy, pending review as a pair."""
    import uuid

    from server.db.models.cases import CandidatePair
    from server.sync.cases import ordered_pair
    from tests.support.staff_api import make_member

    with db.transaction() as s:
        old = make_member(s, "AAAAAA-1")
        new = make_member(s, "BBBBBB-2", phone="+85599887766", nickname="Srey", given_name_km="សុភី")
        a, b = ordered_pair(old.id, new.id)
        pair = CandidatePair(entity_type="member", a_id=a, b_id=b, score=0.91, band="strong",
                             evidence={"codes": ["khmer_family_name_equal", "dob_equal"]})
        s.add(pair)
        s.flush()
        out: dict[str, uuid.UUID] = {"old": old.id, "new": new.id, "pair": pair.id}
    return out
