"""Staff API: hostile or careless input gets a clear 4xx, never a 500, and concurrent reads of
personal data all succeed with every read audited (both databases)."""

from __future__ import annotations

import threading

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from server.db.models import AuditEntry
from server.db.session import Database
from tests.support.live_server import live_server
from tests.support.staff_api import StaffClient, make_member, make_submission, staff  # noqa: F401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/submissions/%00",
        "/api/v1/members?code=%00",
        "/api/v1/submissions?form=%00",
        "/api/v1/members?code=a%00b",
        "/api/v1/members/%00",
        "/api/v1/nowhere/%00",
    ],
)
def test_nul_in_path_or_query__400_json(staff: dict[str, StaffClient], url: str) -> None:  # noqa: F811
    r = staff["case"].get(url)
    assert r.status_code == 400, r.data
    assert r.get_json()["error"]["code"] == "request.bad"


@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775807", "1000001"])
def test_page_beyond_any_real_list__422_naming_the_parameter(
    staff: dict[str, StaffClient], page: str  # noqa: F811
) -> None:
    for resource in ("workplaces", "members", "submissions", "referrals", "duplicates"):
        r = staff["case"].get(f"/api/v1/{resource}?page={page}")
        assert r.status_code == 422, (resource, r.data)
        assert "page" in r.get_json()["error"]["fields"]["query"]


def test_last_allowed_page__200_and_empty(staff: dict[str, StaffClient]) -> None:  # noqa: F811
    r = staff["case"].get("/api/v1/workplaces?page=1000000&page_size=200")
    assert r.status_code == 200
    assert r.get_json() == []


def test_nul_or_lone_surrogate_in_json_body__400_and_nothing_changed(
    db: Database, staff: dict[str, StaffClient]  # noqa: F811
) -> None:
    with db.transaction() as s:
        member_id = make_member(s, "M-0001").id
    for body in ('{"note": "a\\u0000b"}', '{"note": "\\ud800"}'):
        r = staff["case"].post(
            f"/api/v1/members/{member_id}/unmerge", data=body, content_type="application/json"
        )
        assert r.status_code == 400, r.data
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_nul_in_header__400(staff: dict[str, StaffClient]) -> None:  # noqa: F811
    r = staff["admin"].get("/api/v1/members", headers={"X-Sahakum-Reason": "audit\x00check"})
    assert r.status_code == 400


def test_undeclared_method__405_with_allow(staff: dict[str, StaffClient]) -> None:  # noqa: F811
    token = staff["case"].token
    r = staff["case"].client.delete("/api/v1/members", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 405
    assert r.get_json()["error"]["code"] == "method_not_allowed"
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
    assert "DELETE" not in r.headers["Allow"]


def test_four_threads_reading_one_member_all_succeed_and_each_read_is_audited(
    app: Flask, db: Database, staff: dict[str, StaffClient]  # noqa: F811
) -> None:
    with db.transaction() as s:
        member_id = make_member(s, "M-0001").id
        make_submission(s)
    threads, rounds = 4, 15
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    with live_server(app) as base:

        def read() -> None:
            with requests.Session() as http:
                http.headers["Authorization"] = f"Bearer {staff['case'].token}"
                start.wait()
                for _ in range(rounds):
                    status = http.get(f"{base}/api/v1/members/{member_id}", timeout=60).status_code
                    with lock:
                        statuses.append(status)

        workers = [threading.Thread(target=read) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    assert statuses == [200] * (threads * rounds)
    with db.transaction() as s:
        reads = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "member.read")
        )
    assert reads == threads * rounds
