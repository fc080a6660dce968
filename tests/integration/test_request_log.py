# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""Logs are JSON lines, one per request, with ids, statuses, durations and codes; a load with
known names, phones, free text, instanceIDs and tokens leaves none of them in any log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from server.logs import JsonLineFormatter
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401
from tests.support.instances import build_instance, instance_id_of
from tests.support.staff_api import StaffClient, staff  # noqa: F401

PEOPLE = [
    {"name_latin": "Keo Sophea", "phone": "0971112233", "nicknames": "Pich"},
    {"name_latin": "Chhun Dara", "phone": "0962223344", "nicknames": "Lekha"},
    {"name_latin": "Mao Sreyneang", "phone": "0883334455", "nicknames": "Neang"},
]
REASON = "Called by Keo Sophea's sister about a debt"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Everything the app logs during the test, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_load_with_known_people_logs_one_json_line_per_request_and_none_of_their_data(
    published_forms: Any, pe: CollectClient, client: FlaskClient, accounts: Any,
    staff: dict[str, StaffClient], log_stream: io.StringIO
) -> None:
    entry = next(e for e in pe.form_list() if e.form_id == "member_intake")
    media = {m.filename: pe.download_media(m) for m in pe.manifest(entry)}
    xform = pe.download_form(entry)
    instance_ids = []
    for n, person in enumerate(PEOPLE):
        answers = person | {"member_code": f"7K3Q9{n}-X", "note": "a.jpg"}
        xml = build_instance(xform, media=media, answers=answers)
        instance_ids.append(instance_id_of(xml))
        assert pe.submit(xml, {"a.jpg": b"photo"})[-1].status_code == 201
        assert pe.submit(xml, {"a.jpg": b"photo"})[-1].status_code == 201  # identical resend
        conflicting = xml.replace(person["nicknames"].encode(), b"Other")
        assert pe.submit(conflicting)[-1].status_code == 409
    wrong_token = pe.url("formList").replace(accounts["peer_educator"].token, "Z" * 43)
    assert client.get(wrong_token, headers=pe.headers()).status_code == 403
    members = staff["admin"].get("/api/v1/members", headers={"X-Sahakum-Reason": REASON})
    assert members.status_code == 200
    for member in members.get_json():
        assert staff["case"].get(f"/api/v1/members/{member['id']}").status_code == 200
    assert staff["case"].get("/api/v1/members?code=7K3Q90-X").status_code == 200

    text = log_stream.getvalue()
    log_lines = text.splitlines()
    secrets = [REASON, "Sophea", accounts["peer_educator"].token, *instance_ids]
    secrets += [s["token"] if isinstance(s, dict) else s.token for s in staff.values()]
    for person in PEOPLE:
        secrets += [person["name_latin"], person["phone"], person["phone"][1:], person["nicknames"]]
    leaked = [s for s in secrets if s in text]
    assert leaked == []

    records = [json.loads(line) for line in log_lines]  # every line is one JSON object
    requests_logged = [r for r in records if r.get("event") == "request"]
    posts = [r for r in requests_logged if r["method"] == "POST"]
    assert [r["status"] for r in posts] == [201, 201, 409] * len(PEOPLE)
    assert all(r["route"] == "/v1/key/<token>/submission" for r in posts)
    assert {r["outcome"] for r in requests_logged if r["status"] == 200} == {None}
    downloads = [r for r in requests_logged if r["route"] == "/v1/key/<token>/forms/<xml_form_id>.xml"]
    assert downloads and downloads[0]["form_id"] == "member_intake"
    for r in requests_logged:
        assert len(r["request_id"]) >= 8 and r["duration_ms"] >= 0
    unknown = next(r for r in requests_logged if r["status"] == 403)
    assert unknown["route"] == "/v1/key/<token>/formList"
    # One line per merge (the after-reply merge here; merger processes log the same), with ids,
    # the form, the outcome code and the duration - the secrets check above covers them too.
    merges = [r for r in records if r.get("event") == "merge"]
    assert len(merges) == len(PEOPLE)
    assert {r["form_id"] for r in merges} == {"member_intake"}
    assert {r["outcome"] for r in merges} == {"merged"}
    assert all(r["duration_ms"] >= 0 and r["attempts"] == 1 and r["error"] is None for r in merges)
    assert all(r["logger"] == "sahakum.merge" and len(r["submission_id"]) == 36 for r in merges)
    assert {r["candidate_pairs"] for r in merges} >= {0}
