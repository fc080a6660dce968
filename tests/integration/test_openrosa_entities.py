# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""Entity lists on the phone: manifest entries, list content and hash, the integrity endpoint."""

from __future__ import annotations

import csv
import io
import stat
import uuid

import pytest
from lxml import etree
from sqlalchemy import select

from server.config import Settings
from server.db.models import Form
from server.db.session import Database
from server.sync import cases, list_store, lists, review
from tests.integration.test_merge_visit import entity, visit
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe, village  # noqa: F401
from tests.support.submissions import build_xml

MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
pytestmark = pytest.mark.usefixtures("published_forms")


def _manifest(client: CollectClient, form_id: str) -> dict[str, etree._Element]:
    entry = next(e for e in client.form_list() if e.form_id == form_id)
    response = client.request("GET", entry.manifest_url)
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    return {m.findtext(f"{MANIFEST}filename"): m for m in root.iter(f"{MANIFEST}mediaFile")}


def _csv_rows(client: CollectClient, media: etree._Element) -> list[dict[str, str]]:
    response = client.request("GET", media.findtext(f"{MANIFEST}downloadUrl"))
    assert response.status_code == 200
    assert media.findtext(f"{MANIFEST}hash") == "md5:" + response.headers["ETag"].strip('"')
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


def test_manifest__entity_lists_are_typed_with_integrity_url(pe: CollectClient) -> None:
    media = _manifest(pe, "workplace_visit")
    for name in ("members.csv", "workplaces.csv"):
        assert media[name].get("type") == "entityList"
        assert (
            media[name]
            .findtext(f"{MANIFEST}integrityUrl", "")
            .endswith(f"/datasets/{name.removesuffix('.csv')}/integrity")
        )
    # The account's area lists and the collectors list are plain media.
    assert media["area_villages.csv"].get("type") is None
    assert media["collectors.csv"].get("type") is None
    assert media["area_villages.csv"].find(f"{MANIFEST}integrityUrl") is None


def test_workplace_list__reflects_the_server_after_a_visit(db: Database, pe: CollectClient) -> None:
    with db.transaction() as s:
        wp = cases.create_workplace(
            s, name_latin="Golden Star KTV", type="karaoke", village_code="18010101", actor="test"
        ).id
        cases.create_workplace(s, name_latin="Far Away KTV", village_code="18020101", actor="test")
    before = _manifest(pe, "workplace_visit")["workplaces.csv"]
    rows = _csv_rows(pe, before)
    # Cut to the collector's communes (PE07 works in 180101 and 180102).
    assert [r["name"] for r in rows] == [str(wp)]
    assert rows[0]["__version"] == "1"

    with db.sessionmaker() as s:
        form_xml = s.scalar(select(Form).where(Form.xml_form_id == "workplace_visit")).versions[-1].xml
    xml = build_xml(
        form_xml, visit(wp, n_workers_est="30"), instance_id=f"uuid:{uuid.uuid4()}", entity=entity(wp, base=1)
    )
    (response,) = pe.submit(xml)
    assert response.status_code == 201

    after = _manifest(pe, "workplace_visit")["workplaces.csv"]
    assert after.findtext(f"{MANIFEST}hash") != before.findtext(f"{MANIFEST}hash")
    (row,) = _csv_rows(pe, after)
    assert row["__version"] == "2"
    assert row["workers_est"] == "30"
    assert row["last_visit_date"] == "2026-11-10"
    # Unchanged server state: the same hash again, so Collect skips the download.
    assert _manifest(pe, "workplace_visit")["workplaces.csv"].findtext(f"{MANIFEST}hash") == after.findtext(
        f"{MANIFEST}hash"
    )


def test_integrity__reports_merged_workplace_deleted(db: Database, pe: CollectClient) -> None:
    with db.transaction() as s:
        a = cases.create_workplace(s, name_latin="Happy KTV", village_code="18010101", actor="t").id
        b = cases.create_workplace(s, name_latin="Happy Karaoke", village_code="18010101", actor="t").id
    with db.transaction() as s:
        review.merge_workplaces(s, (a, b), "staff:case1")
    url = _manifest(pe, "workplace_visit")["workplaces.csv"].findtext(f"{MANIFEST}integrityUrl")
    response = pe.request("GET", f"{url}?id={a},{b}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    root = etree.fromstring(response.data)
    assert root.tag == "data"
    deleted = {e.get("id"): e.findtext("deleted") for e in root.iter("entity")}
    assert deleted == {str(a): "false", str(b): "true"}


def test_integrity__list_not_used_by_the_collectors_forms__404(village: CollectClient) -> None:
    # Village accounts download workplaces.csv with village_data but never members.csv.
    response = village.request("GET", village.server_url + "/datasets/members/integrity?id=x")
    assert response.status_code == 404
    assert b"OpenRosaResponse" in response.data


def test_entity_list__if_none_match__304_without_building_the_list(
    db: Database, pe: CollectClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.transaction() as s:
        cases.create_workplace(s, name_latin="Golden Star KTV", village_code="18010101", actor="test")
    url = _manifest(pe, "workplace_visit")["workplaces.csv"].findtext(f"{MANIFEST}downloadUrl")
    etag = pe.request("GET", url).headers["ETag"]

    def must_not_build(*_args: object) -> bytes:
        raise AssertionError("the list was built for a 304")

    monkeypatch.setitem(lists.BUILDERS, "workplaces.csv", must_not_build)
    cached = pe.request("GET", url, headers=pe.headers(**{"If-None-Match": etag}))
    assert cached.status_code == 304 and cached.headers["X-OpenRosa-Version"] == "1.0"
    assert cached.headers["ETag"] == etag
    monkeypatch.undo()

    # A change to the cases (another process's commit, a trigger keeps the version) is seen.
    with db.transaction() as s:
        cases.create_workplace(s, name_latin="Blue Moon", village_code="18010101", actor="test")
    changed = pe.request("GET", url, headers=pe.headers(**{"If-None-Match": etag}))
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"Blue Moon" in changed.data


def test_entity_list__body_built_once_per_version_and_collector(
    db: Database, pe: CollectClient, village: CollectClient, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with db.transaction() as s:
        cases.create_workplace(s, name_latin="Golden Star KTV", village_code="18010101", actor="test")
    built: list[str] = []
    real = lists.BUILDERS["workplaces.csv"]

    def counting(session: object, collector: object) -> bytes:
        built.append(collector.name)  # type: ignore[attr-defined]
        return real(session, collector)  # type: ignore[arg-type]

    monkeypatch.setitem(lists.BUILDERS, "workplaces.csv", counting)
    url = _manifest(pe, "workplace_visit")["workplaces.csv"].findtext(f"{MANIFEST}downloadUrl")
    first = pe.request("GET", url)
    again = pe.request("GET", url)
    assert first.status_code == again.status_code == 200
    assert again.data == first.data and b"Golden Star KTV" in again.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert int(again.headers["Content-Length"]) == len(again.data)
    assert built == ["PE07"]  # the second download streamed the stored body

    # Another collector's list is her own body, built for her.
    village_url = _manifest(village, "village_data")["workplaces.csv"].findtext(f"{MANIFEST}downloadUrl")
    assert village.request("GET", village_url).status_code == 200
    assert built == ["PE07", "V18010101"]

    store = settings.instance_dir / list_store.STORE_FOLDER
    stored = sorted(store.iterdir())
    assert len(stored) == 2
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in stored)
    # File names carry the account id and the ETag, never the account's code.
    assert not any("PE07" in p.name for p in stored)

    # A change to the cases makes a new version: built again, the older body removed.
    with db.transaction() as s:
        cases.create_workplace(s, name_latin="Blue Moon", village_code="18010101", actor="test")
    changed = pe.request("GET", url)
    assert changed.status_code == 200 and b"Blue Moon" in changed.data
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert built == ["PE07", "V18010101", "PE07"]
    assert len(list(store.iterdir())) == 2
    assert not any(first.headers["ETag"].strip('"') in p.name for p in store.iterdir())


def test_entity_list__instance_folder_unusable__list_still_served(
    db: Database, pe: CollectClient, settings: Settings
) -> None:
    with db.transaction() as s:
        cases.create_workplace(s, name_latin="Golden Star KTV", village_code="18010101", actor="test")
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    (settings.instance_dir / list_store.STORE_FOLDER).write_text("not a folder")
    url = _manifest(pe, "workplace_visit")["workplaces.csv"].findtext(f"{MANIFEST}downloadUrl")
    response = pe.request("GET", url)
    assert response.status_code == 200 and b"Golden Star KTV" in response.data
    assert int(response.headers["Content-Length"]) == len(response.data)


def test_entity_list__poll__one_read_and_the_same_refusals_as_a_download(
    db: Database, pe: CollectClient, village: CollectClient, accounts: dict
) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from server.accounts.collectors import revoke_collector

    url = _manifest(pe, "workplace_visit")["workplaces.csv"].findtext(f"{MANIFEST}downloadUrl")
    etag = pe.request("GET", url).headers["ETag"]
    seen: list[str] = []

    def count(_conn: object, _cur: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        cached = pe.request("GET", url, headers=pe.headers(**{"If-None-Match": etag}))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert cached.status_code == 304
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 1, seen

    # A stale ETag, or none: the list itself, with the ETag the poll computes.
    fresh = pe.request("GET", url, headers=pe.headers(**{"If-None-Match": '"stale"'}))
    assert fresh.status_code == 200 and fresh.headers["ETag"] == etag

    # A form this account may not use: the same refusal with or without If-None-Match.
    theirs = village.server_url + url.removeprefix(pe.server_url)
    plain = village.request("GET", theirs)
    polled = village.request("GET", theirs, headers=village.headers(**{"If-None-Match": etag}))
    assert plain.status_code >= 400 and (polled.status_code, polled.data) == (plain.status_code, plain.data)

    with db.transaction() as s:
        revoke_collector(s, accounts["peer_educator"].name)
    revoked = pe.request("GET", url, headers=pe.headers(**{"If-None-Match": etag}))
    assert revoked.status_code == 403
