# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""Lists cut to the account's area (issue 9 item 1, domain.md 1.1-1.2): a village phone gets
its own communes and villages, a peer educator's phone her province's; national lists stay
only where a woman's home village is asked. Accounts without a valid area are refused."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.cli import main
from server.db.models import Collector
from server.db.session import Database
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe, village  # noqa: F401

pytestmark = pytest.mark.usefixtures("published_forms")


def _media(client: CollectClient, form_id: str) -> dict[str, tuple[str, bytes]]:
    entry = next(e for e in client.form_list() if e.form_id == form_id)
    return {m.filename: (m.hash, client.download_media(m)) for m in client.manifest(entry)}


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_village_phone__lists_hold_only_its_commune_and_weigh_a_few_kilobytes(
    village: CollectClient,
) -> None:
    media = _media(village, "village_data")
    assert "villages.csv" not in media and "communes.csv" not in media
    communes = _rows(media["area_communes.csv"][1])
    villages = _rows(media["area_villages.csv"][1])
    assert [c["name"] for c in communes] == ["180101"]
    assert villages and {v["commune"] for v in villages} == {"180101"}
    assert not any(v["name"].startswith("unk-") for v in villages)
    total = sum(len(data) for _, data in media.values())
    assert total < 50_000, total


def test_peer_educator_phone__workplace_place_lists_are_her_province_origin_stays_national(
    pe: CollectClient,
) -> None:
    media = _media(pe, "workplace_visit")
    assert {c["province"] for c in _rows(media["area_communes.csv"][1])} == {"18"}
    intake = _media(pe, "member_intake")
    # Her home village can be anywhere in Cambodia.
    assert len({c["province"] for c in _rows(intake["communes.csv"][1])}) == 25


def test_manifest_hash__changes_exactly_when_this_collectors_list_changes(
    db: Database, village: CollectClient, pe: CollectClient, accounts
) -> None:
    before = _media(village, "village_data")
    pe_before = _media(pe, "workplace_visit")
    assert _media(village, "village_data") == before  # stable
    with db.transaction() as s:
        s.get(Collector, accounts["village"].id).communes = "180101 180102"
    after = _media(village, "village_data")
    assert after["area_communes.csv"][0] != before["area_communes.csv"][0]
    assert after["area_villages.csv"][0] != before["area_villages.csv"][0]
    assert [c["name"] for c in _rows(after["area_communes.csv"][1])] == ["180101", "180102"]
    # Another account's lists did not move.
    assert _media(pe, "workplace_visit")["area_communes.csv"] == pe_before["area_communes.csv"]


@pytest.mark.parametrize(
    ("communes", "says"),
    [("", "needs its area"), ("180101 999999", "Unknown commune code 999999")],
)
def test_collectors_add__without_area_or_with_an_unknown_commune_is_refused_nothing_created(
    db: Database, database_url, tmp_path, monkeypatch, communes, says
) -> None:
    monkeypatch.setenv("SAHAKUM_DATABASE_URL", database_url)
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(tmp_path / "inst"))
    result = CliRunner().invoke(main, ["collectors", "add", "V99", "--role", "village",
                                       "--communes", communes, "--json"])
    assert result.exit_code != 0
    assert says in result.output and len(result.output.strip().splitlines()) == 1
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Collector)) == 0
    assert not (tmp_path / "inst" / "qr").exists() or not list((tmp_path / "inst" / "qr").iterdir())
    ok = CliRunner().invoke(main, ["collectors", "add", "V99", "--role", "village",
                                   "--communes", "180101", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["name"] == "V99"
