"""Entity-list bodies stored per ETag in the instance folder (server/sync/list_store.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.sync import list_store


def _builder(body: bytes, calls: list[bytes]):  # type: ignore[no-untyped-def]
    def build() -> bytes:
        calls.append(body)
        return body

    return build


def test_open_body__built_once_then_read_back(tmp_path: Path) -> None:
    calls: list[bytes] = []
    with list_store.open_body(tmp_path, "workplaces.csv", 7, "e1", _builder(b"a,b\n", calls)) as f:
        assert f.read() == b"a,b\n"
    with list_store.open_body(tmp_path, "workplaces.csv", 7, "e1", _builder(b"other", calls)) as f:
        assert f.read() == b"a,b\n"
    assert calls == [b"a,b\n"]
    (stored,) = (tmp_path / list_store.STORE_FOLDER).iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700


def test_open_body__new_etag_replaces_only_that_lists_body(tmp_path: Path) -> None:
    calls: list[bytes] = []
    list_store.open_body(tmp_path, "workplaces.csv", 7, "e1", _builder(b"v1", calls)).close()
    list_store.open_body(tmp_path, "workplaces.csv", 17, "e1", _builder(b"other", calls)).close()
    list_store.open_body(tmp_path, "members.csv", 7, "e1", _builder(b"members", calls)).close()
    held = list_store.open_body(tmp_path, "workplaces.csv", 7, "e1", _builder(b"x", calls))
    with list_store.open_body(tmp_path, "workplaces.csv", 7, "e2", _builder(b"v2", calls)) as f:
        assert f.read() == b"v2"
    # A download still streaming the older body reads it whole after it was removed.
    assert held.read() == b"v1"
    held.close()
    names = sorted(p.name for p in (tmp_path / list_store.STORE_FOLDER).iterdir())
    assert names == ["members-7-e1.csv", "workplaces-17-e1.csv", "workplaces-7-e2.csv"]


def test_open_body__failed_build_stores_nothing(tmp_path: Path) -> None:
    def broken() -> bytes:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        list_store.open_body(tmp_path, "workplaces.csv", 7, "e1", broken)
    assert list((tmp_path / list_store.STORE_FOLDER).iterdir()) == []


def test_open_body__unusable_store__the_list_is_still_served(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.write_text("not a folder")  # the store folder cannot be created under it
    calls: list[bytes] = []
    with list_store.open_body(instance, "workplaces.csv", 7, "e1", _builder(b"a,b\n", calls)) as f:
        assert f.read() == b"a,b\n"
    assert calls == [b"a,b\n"]
