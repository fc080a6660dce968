# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""Headers on every reply: nosniff everywhere, no caching of personal data, Allow on 405."""

from __future__ import annotations

from flask.testing import FlaskClient

from server.db.session import Database
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.staff_api import StaffClient, make_member, staff  # noqa: F401


def test_personal_data_replies_are_not_stored_by_any_cache(
    db: Database, staff: dict[str, StaffClient]
) -> None:
    with db.transaction() as s:
        member_id = make_member(s, "M-0001").id
    for url in ("/api/v1/members", f"/api/v1/members/{member_id}", "/api/v1/duplicates"):
        r = staff["case"].get(url)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_nosniff_on_every_kind_of_reply(client: FlaskClient, pe: CollectClient) -> None:
    replies = [
        pe.request("GET", "formList"),
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/members"),  # 401
        client.get("/nowhere"),  # 404 outside the API
        client.get("/healthz"),
    ]
    assert [r.headers.get("X-Content-Type-Options") for r in replies] == ["nosniff"] * len(replies)


def test_405_names_the_allowed_methods_on_openrosa_and_api(client: FlaskClient, pe: CollectClient) -> None:
    openrosa = client.delete(pe.url("formList"), headers=pe.headers())
    assert openrosa.status_code == 405
    assert set(openrosa.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    api = client.put("/api/v1/duplicates")
    assert api.status_code == 405
    assert "GET" in api.headers["Allow"] and "PUT" not in api.headers["Allow"]
