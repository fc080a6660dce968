"""Staff API: bearer tokens, JSON errors with stable codes, the OpenAPI document, the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server.accounts.staff import revoke_staff
from server.cli import main
from server.db.models import StaffUser
from server.db.session import Database
from tests.support.staff_api import StaffClient, staff  # noqa: F401


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.data
    assert response.is_json
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


def test_get__no_token__401_json_with_www_authenticate(client):
    r = client.get("/api/v1/members")
    assert_error(r, 401, "auth.unauthenticated")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_get__unknown_token__401(client, staff):  # noqa: F811
    r = client.get("/api/v1/submissions", headers={"Authorization": "Bearer " + "A" * 64})
    assert_error(r, 401, "auth.unauthenticated")


def test_get__malformed_authorization__401(client):
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token"):
        assert_error(client.get("/api/v1/submissions", headers={"Authorization": header}), 401,
                     "auth.unauthenticated")


def test_get__revoked_token__401(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    assert staff["case"].get("/api/v1/submissions").status_code == 200
    with db.transaction() as s:
        revoke_staff(s, "test-case")
    assert_error(staff["case"].get("/api/v1/submissions"), 401, "auth.unauthenticated")


def test_tokens_are_stored_hashed(db: Database, staff: dict[str, StaffClient]):  # noqa: F811
    with db.transaction() as s:
        hashes = set(s.scalars(select(StaffUser.token_hash)))
    assert staff["case"].token not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_wrong_role__403_json(staff: dict[str, StaffClient]):  # noqa: F811
    assert_error(staff["me"].get("/api/v1/duplicates"), 403, "auth.forbidden")
    assert_error(staff["admin"].get("/api/v1/duplicates"), 403, "auth.forbidden")


def test_unknown_path_under_api__404_json(staff: dict[str, StaffClient]):  # noqa: F811
    assert_error(staff["case"].get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method__405_json(staff: dict[str, StaffClient]):  # noqa: F811
    assert_error(staff["case"].post("/api/v1/members"), 405, "method_not_allowed")


def test_bad_query_argument__422_json_naming_the_field(staff: dict[str, StaffClient]):  # noqa: F811
    body = assert_error(staff["case"].get("/api/v1/submissions?state=nonsense"), 422, "request.invalid")
    assert "state" in body["error"]["fields"]["query"]
    body = assert_error(staff["case"].get("/api/v1/members?page=zero"), 422, "request.invalid")
    assert "page" in body["error"]["fields"]["query"]
    assert_error(staff["case"].get("/api/v1/members?page_size=100000"), 422, "request.invalid")


def test_bad_id__404_not_500(staff: dict[str, StaffClient]):  # noqa: F811
    for url in ("/api/v1/members/not-a-uuid", "/api/v1/workplaces/not-a-uuid", "/api/v1/referrals/12",
                "/api/v1/duplicates/x", "/api/v1/submissions/uuid:nothing"):
        assert_error(staff["child_protection"].get(url), 404, "not_found")


def test_too_long_reason_header__422(staff: dict[str, StaffClient]):  # noqa: F811
    r = staff["admin"].get("/api/v1/members", headers={"X-Sahakum-Reason": "x" * 501})
    assert_error(r, 422, "request.invalid")


def test_request_id_is_echoed(staff: dict[str, StaffClient]):  # noqa: F811
    r = staff["case"].get("/api/v1/submissions", headers={"X-Request-ID": "req-12345678"})
    assert r.headers["X-Request-ID"] == "req-12345678"


def test_openapi_document__served_as_json_listing_the_paths(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.data)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] == "Sahakum staff API"
    assert doc["info"]["version"] == "v1"
    for path in (
        "/api/v1/submissions", "/api/v1/submissions/{instance_id}", "/api/v1/members",
        "/api/v1/members/{member_id}", "/api/v1/members/{member_id}/unmerge", "/api/v1/workplaces",
        "/api/v1/workplaces/{workplace_id}", "/api/v1/duplicates", "/api/v1/duplicates/{pair_id}/merge",
        "/api/v1/duplicates/{pair_id}/reject", "/api/v1/referrals",
    ):
        assert path in doc["paths"], path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "200" in doc["paths"]["/api/v1/members"]["get"]["responses"]


def test_openrosa_paths_keep_their_own_errors(client):
    # flask-smorest handles HTTP errors app-wide; outside /api/ the reply must not become our JSON.
    r = client.get("/definitely/not/here")
    assert r.status_code == 404
    assert not (r.is_json and "error" in (r.get_json() or {}))


def test_cli_staff_add_list_revoke(db: Database, settings, monkeypatch):
    monkeypatch.setenv("SAHAKUM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(settings.instance_dir))
    runner = CliRunner()
    r = runner.invoke(main, ["staff", "add", "Sreymom case", "--role", "case", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["name"] == "Sreymom case" and out["role"] == "case" and len(out["token"]) == 64
    r = runner.invoke(main, ["staff", "add", "Sreymom case", "--role", "me"])
    assert r.exit_code != 0 and "already exists" in r.output
    r = runner.invoke(main, ["staff", "add", "x", "--role", "superuser"])
    assert r.exit_code != 0
    r = runner.invoke(main, ["staff", "list", "--json"])
    assert [u["name"] for u in json.loads(r.output)] == ["Sreymom case"]
    assert out["token"] not in r.output
    r = runner.invoke(main, ["staff", "revoke", "Sreymom case"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["staff", "revoke", "nobody"])
    assert r.exit_code != 0


def test_cli_token_authenticates(db: Database, settings, monkeypatch, client):
    monkeypatch.setenv("SAHAKUM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(settings.instance_dir))
    r = CliRunner().invoke(main, ["staff", "add", "mne", "--role", "me", "--json"])
    token = json.loads(r.output)["token"]
    assert client.get("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_server_bug__json_500_and_no_personal_data_in_the_log(
    staff: dict[str, StaffClient],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from server.casework import queries

    def boom(*_args: object, **_kwargs: object) -> None:
        raise ValueError("Chan Sokha +85512000451")  # what a driver error could quote

    monkeypatch.setattr(queries, "list_members", boom)
    response = staff["case"].get("/api/v1/members")
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "internal_error", "message": response.get_json()["error"]["message"]}
    }
    assert "Sokha" not in response.get_data(as_text=True)
    assert "ValueError" in caplog.text
    assert "Sokha" not in caplog.text and "85512000451" not in caplog.text
