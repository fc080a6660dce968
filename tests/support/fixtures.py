"""Fixtures for the OpenRosa tests: collector accounts and Collect-like clients.
Import the names into a test module to use them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.accounts.collectors import create_collector
from server.db.session import Database
from tests.support.collect import CollectClient

BASE = "http://localhost"


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    token: str

    @property
    def server_url(self) -> str:
        return f"{BASE}/v1/key/{self.token}"


@pytest.fixture
def accounts(db: Database) -> dict[str, Account]:
    out = {}
    with db.transaction() as s:
        for name, role, communes in [
            ("PE07", "peer_educator", "180101 180102"),
            ("V18010101", "village", "180101"),
        ]:
            collector, token = create_collector(s, name, role, communes)
            out[role] = Account(collector.id, name, role, token)
    return out


@pytest.fixture
def pe(client: FlaskClient, accounts: dict[str, Account]) -> CollectClient:
    return CollectClient(client, accounts["peer_educator"].server_url)


@pytest.fixture
def village(client: FlaskClient, accounts: dict[str, Account]) -> CollectClient:
    return CollectClient(client, accounts["village"].server_url, device_id="collect:V1ll4g3")


@pytest.fixture
def hook_calls(app: Flask) -> list:
    calls: list = []
    app.extensions["sahakum_after_submission"].append(lambda _app, sid: calls.append(sid))
    return calls
