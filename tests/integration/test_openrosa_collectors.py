"""`sahakum collectors add|list|revoke` and the Collect set-up QR payload."""

from __future__ import annotations

import json
import stat

from click.testing import CliRunner

from server.accounts.collectors import CollectSettings, decode_qr_payload
from server.accounts.tokens import hash_token
from server.cli import main
from tests.support.collect import CollectClient


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_collectors_add_list_revoke__token_works_then_403(
    db, database_url, tmp_path, monkeypatch, client, published_forms
):
    monkeypatch.setenv("SAHAKUM_DATABASE_URL", database_url)
    monkeypatch.setenv("SAHAKUM_INSTANCE_DIR", str(tmp_path / "inst"))
    result = run(
        "collectors",
        "add",
        "PE09",
        "--role",
        "peer_educator",
        "--communes",
        "180101,180102",
        "--base-url",
        "http://localhost",
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"name", "role", "server_url", "qr_png"}
    token = out["server_url"].rsplit("/", 1)[-1]
    assert len(token) == 64 and out["server_url"] == f"http://localhost/v1/key/{token}"
    png = tmp_path / "inst" / "qr" / out["qr_png"].rsplit("/", 1)[-1]
    assert png.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(png.stat().st_mode) == 0o600
    from sqlalchemy import select

    from server.db.models import Collector

    with db.transaction() as s:
        row = s.scalars(select(Collector)).one()
        assert row.token_hash == hash_token(token) and token not in row.token_hash
        assert row.communes == "180101 180102"

    collect = CollectClient(client, out["server_url"])
    assert {e.form_id for e in collect.form_list()} == {"member_intake", "workplace_visit"}

    listed = json.loads(run("collectors", "list", "--json").output)
    assert [(c["name"], c["active"]) for c in listed] == [("PE09", True)]
    assert token not in run("collectors", "list").output

    assert run("collectors", "add", "PE09", "--role", "village").exit_code != 0  # name taken
    assert run("collectors", "revoke", "PE09").exit_code == 0
    assert collect.request("GET", "formList").status_code == 403
    assert run("collectors", "revoke", "NOPE").exit_code != 0

    # --replace re-enrols the same account with a new token; the old set-up stays cut off.
    replaced = run("collectors", "add", "PE09", "--role", "peer_educator", "--replace", "--json",
                   "--base-url", "http://localhost")
    assert replaced.exit_code == 0, replaced.output
    new_url = json.loads(replaced.stdout)["server_url"]
    assert new_url != out["server_url"]
    assert collect.request("GET", "formList").status_code == 403
    assert {e.form_id for e in CollectClient(client, new_url).form_list()} == {
        "member_intake", "workplace_visit"}
    assert [c["name"] for c in json.loads(run("collectors", "list", "--json").output)] == ["PE09"]


def test_qr_payload__collect_format_and_safe_defaults():
    payload = CollectSettings("https://x.example/v1/key/abc").qr_payload()
    settings = decode_qr_payload(payload)
    assert settings["general"]["server_url"] == "https://x.example/v1/key/abc"
    assert settings["general"]["delete_send"] is True
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert settings["admin"]["edit_saved"] is False and settings["admin"]["view_sent"] is False
    assert settings["admin"]["change_server"] is False
    assert settings["project"]["name"] == "Sahakum"
