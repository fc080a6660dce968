# ruff: noqa: F811  (pytest fixtures imported from tests.support are parameters here)
"""Entity update conflicts are shown to staff with the workplace, and staff can mark them checked."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from server.db.models import AuditEntry
from server.db.session import Database
from server.sync import cases
from tests.integration.test_merge_visit import entity, submit, visit
from tests.support.staff_api import StaffClient, staff  # noqa: F401

pytestmark = pytest.mark.usefixtures("published_forms")


@pytest.fixture
def conflicted_workplace(db: Database) -> uuid.UUID:
    with db.transaction() as s:
        wp = cases.create_workplace(s, name_latin="Golden Star KTV", village_code="18010101", actor="t").id
    # Two peer educators update the bar offline from the same version, with different counts.
    submit(db, visit(wp), entity(wp, 1))
    submit(db, visit(wp, n_workers_est="25"), entity(wp, 1), by="PE08")
    return wp


def test_workplace_detail__lists_conflicts(
    conflicted_workplace: uuid.UUID, staff: dict[str, StaffClient]
) -> None:
    body = staff["me"].get(f"/api/v1/workplaces/{conflicted_workplace}").get_json()
    assert body["has_conflict"] is True
    (conflict,) = body["conflicts"]
    assert conflict["kind"] == "hard"
    assert conflict["properties"] == ["workers_est"]
    assert (conflict["base_version"], conflict["server_version"]) == (1, 2)
    assert conflict["resolved"] is False


def test_resolve_conflicts__clears_flag_and_is_audited(
    db: Database, conflicted_workplace: uuid.UUID, staff: dict[str, StaffClient]
) -> None:
    url = f"/api/v1/workplaces/{conflicted_workplace}/conflicts/resolve"
    assert staff["me"].post(url, json={}).status_code == 403
    response = staff["case"].post(url, json={"note": "checked with PE07"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"resolved": 1}
    body = staff["case"].get(f"/api/v1/workplaces/{conflicted_workplace}").get_json()
    assert body["has_conflict"] is False
    assert body["conflicts"][0]["resolved"] is True
    assert body["conflicts"][0]["resolved_by"] == "test-case"
    # Nothing left to resolve the second time.
    assert staff["case"].post(url, json={}).get_json() == {"resolved": 0}
    with db.sessionmaker() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "workplace.conflicts.resolve")
        ).first()
        assert entry is not None and entry.reason == "checked with PE07"


def test_resolve_conflicts__unknown_workplace__404_json(staff: dict[str, StaffClient]) -> None:
    response = staff["case"].post(f"/api/v1/workplaces/{uuid.uuid4()}/conflicts/resolve", json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
