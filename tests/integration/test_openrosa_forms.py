# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""formList, form download, manifest and media, driven as Collect drives them (protocol.md 1.3-1.5)."""

from __future__ import annotations

import csv
import io

import pytest

from server.db.models import FormState
from server.sync import lists
from server.xforms.publish import FORMS_DIR, set_form_state
from tests.support.collect import CollectClient, md5
from tests.support.fixtures import accounts, hook_calls, pe, village  # noqa: F401


def assert_openrosa(response, status=200):
    assert response.status_code == status, response.data
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["Date"]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_form_list__peer_educator_sees_its_forms_with_true_hashes(published_forms, pe: CollectClient):
    entries = pe.form_list()
    assert_openrosa(pe.responses[-1])
    assert {e.form_id for e in entries} == {"member_intake", "workplace_visit"}
    for entry in entries:
        assert entry.name and entry.download_url and entry.version
        xml = pe.download_form(entry)  # checks md5: == MD5 of the served bytes
        assert xml == published_forms[entry.form_id].xml
        assert_openrosa(pe.responses[-1])


def test_form_list__village_account_sees_village_data_only(published_forms, village):
    assert [e.form_id for e in village.form_list()] == ["village_data"]


def test_manifest_and_media__hashes_are_md5_of_served_bytes(published_forms, pe):
    entry = next(e for e in pe.form_list() if e.form_id == "workplace_visit")
    media = pe.manifest(entry)
    assert_openrosa(pe.responses[-1])
    names = {m.filename for m in media}
    assert set(published_forms["workplace_visit"].media_files) == names
    for item in media:
        body = pe.download_media(item)  # asserts the manifest hash
        if item.filename in {"communes.csv", "villages.csv"}:
            assert body == (FORMS_DIR / "media" / item.filename).read_bytes()
    collectors_csv = pe.download_media(next(m for m in media if m.filename == "collectors.csv"))
    rows = list(csv.DictReader(io.StringIO(collectors_csv.decode())))
    assert rows == [{"name": "PE07", "label": "PE07", "communes": "180101 180102"}]


@pytest.mark.parametrize("filename", ["members.csv", "workplaces.csv", "collectors.csv"])
def test_generated_lists__headers_match_form_media_placeholders(filename):
    placeholder = (FORMS_DIR / "media" / filename).read_text(encoding="utf-8").splitlines()[0]
    header = {
        "members.csv": lists.MEMBERS_HEADER,
        "workplaces.csv": lists.WORKPLACES_HEADER,
        "collectors.csv": lists.COLLECTORS_HEADER,
    }[filename]
    assert placeholder.split(",") == list(header)


@pytest.mark.parametrize("filename", ["area_communes.csv", "area_villages.csv"])
def test_area_lists__headers_match_form_media_placeholders(filename):
    from server.sync import area_lists

    placeholder = (FORMS_DIR / "media" / filename).read_text(encoding="utf-8").splitlines()[0]
    header = {"area_communes.csv": area_lists.COMMUNES_HEADER,
              "area_villages.csv": area_lists.VILLAGES_HEADER}[filename]
    assert placeholder.split(",") == list(header)


def test_etag__unchanged_resources_answer_304(published_forms, pe):
    list_response = pe.request("GET", "formList")
    etag = list_response.headers["ETag"]
    again = pe.request("GET", "formList", headers=pe.headers(**{"If-None-Match": etag}))
    assert again.status_code == 304 and again.headers["X-OpenRosa-Version"] == "1.0"
    entry = pe.form_list()[0]
    form = pe.request("GET", entry.download_url)
    assert form.headers["ETag"].strip('"') == md5(form.data)
    cached = pe.request(
        "GET", entry.download_url, headers=pe.headers(**{"If-None-Match": form.headers["ETag"]})
    )
    assert cached.status_code == 304
    manifest = pe.request("GET", entry.manifest_url)
    cached = pe.request(
        "GET", entry.manifest_url, headers=pe.headers(**{"If-None-Match": manifest.headers["ETag"]})
    )
    assert cached.status_code == 304


def test_form_list__closing_and_closed_forms_not_listed(published_forms, pe, db):
    with db.transaction() as s:
        set_form_state(s, "member_intake", FormState.CLOSING)
        set_form_state(s, "workplace_visit", FormState.CLOSED)
    assert pe.form_list() == []


def test_download__form_of_another_role_is_403(published_forms, village, pe):
    url = pe.form_list()[0].download_url.replace(pe.server_url, village.server_url)
    response = village.request("GET", url)
    assert_openrosa(response, 403)


def test_download__unknown_form_404_and_unknown_media_404(published_forms, pe):
    assert_openrosa(pe.request("GET", "forms/nope.xml"), 404)
    assert_openrosa(pe.request("GET", "forms/workplace_visit/attachments/nope.csv"), 404)


def test_form_list__missing_openrosa_header_400(published_forms, pe):
    response = pe.request("GET", "formList", headers={"Date": "whatever"})
    assert_openrosa(response, 400)
    assert b"X-OpenRosa-Version" in response.data


@pytest.mark.parametrize("token", ["x" * 64, "short", "A" * 63 + "!"])
def test_unknown_token__403_never_401(published_forms, client, token):
    response = CollectClient(client, f"http://localhost/v1/key/{token}").request("GET", "formList")
    assert_openrosa(response, 403)
    assert "WWW-Authenticate" not in response.headers


def test_revoked_token__403(published_forms, pe, db, accounts):
    from server.accounts.collectors import revoke_collector

    with db.transaction() as s:
        revoke_collector(s, accounts["peer_educator"].name)
    assert_openrosa(pe.request("GET", "formList"), 403)
    assert_openrosa(pe.head(), 403)


def test_base_url_setting_is_used_for_links(published_forms, settings, db, accounts):
    import dataclasses

    from server import create_app

    app = create_app(dataclasses.replace(settings, base_url="https://sahakum.example.org"), {"TESTING": True})
    try:
        collect = CollectClient(app.test_client(), accounts["peer_educator"].server_url)
        entry = collect.form_list()[0]
        assert entry.download_url.startswith(
            f"https://sahakum.example.org/v1/key/{accounts['peer_educator'].token}/forms/"
        )
    finally:
        app.extensions["sahakum_db"].dispose()
