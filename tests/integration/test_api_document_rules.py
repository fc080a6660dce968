# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""What the schemathesis run (test_api_contract.py) made the API and its document agree on, each
checked directly: the behaviours behind the rules the document now states."""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient

from server.db.session import Database
from server.reports.periods import parse_period
from tests.support.staff_api import StaffClient, make_submission, staff  # noqa: F401


def test_bulk_review_url__allows_only_post__and_is_not_an_instance_id(
    client: FlaskClient, staff: dict[str, StaffClient]
) -> None:
    token = {"Authorization": f"Bearer {staff['case'].token}"}
    options = client.options("/api/v1/submissions/review", headers=token)
    assert set(options.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}
    assert client.get("/api/v1/submissions/review", headers=token).status_code == 405
    assert client.options("/api/v1/imports/courses", headers=token).headers["Allow"] in (
        "OPTIONS, POST", "POST, OPTIONS")
    unknown_kind = client.post("/api/v1/imports/no_such_kind", headers=token)
    assert unknown_kind.status_code == 404


def test_review__if_match_star_accepted__empty_comment_refused__comment_time_iso(
    db: Database, staff: dict[str, StaffClient]
) -> None:
    with db.transaction() as s:
        iid = make_submission(s).root_instance_id
    review = staff["case"].post(f"/api/v1/submissions/{iid}/review", json={"state": "approved"},
                                headers={"If-Match": "*"})
    assert review.status_code == 200, review.get_json()
    comments = f"/api/v1/submissions/{iid}/comments"
    assert staff["case"].post(comments, json={"text": " \u3000"}).status_code == 422
    assert staff["case"].post(comments, json={"text": "ok"}).status_code == 201
    (comment,) = staff["case"].get(f"/api/v1/submissions/{iid}/comments").get_json()
    datetime.fromisoformat(comment["at"])  # ISO 8601, as documented (not an HTTP date)


def test_bulk_review__json_booleans_only__and_exactly_one_of_ids_or_filter(
    staff: dict[str, StaffClient]
) -> None:
    url = "/api/v1/submissions/review"
    def review(flag: object) -> int:
        return staff["case"].post(url, json={"state": "approved", "filter": {"has_alert": flag}}).status_code

    assert review(0) == 422
    assert review(False) == 200
    assert staff["case"].post(url, json={"state": "approved"}).status_code == 422


def test_report_period__range_given_end_first_is_the_same_days__snapshot_needs_json_boolean(
    staff: dict[str, StaffClient]
) -> None:
    backwards = parse_period("2026-11-30..2026-11-01")
    assert (backwards.start.isoformat(), backwards.end.isoformat()) == ("2026-11-01", "2026-11-30")
    assert backwards.label == "2026-11-01..2026-11-30"
    assert staff["me"].get("/api/v1/reports/indicators").status_code == 422  # period is required
    bad = staff["me"].post("/api/v1/reports/snapshots", json={"period": "2026-11", "external": 0})
    assert bad.status_code == 422
    good = staff["me"].post("/api/v1/reports/snapshots", json={"period": "2026-11", "external": False})
    assert good.status_code == 201
