"""Mergers run at a lower CPU priority than the app, decided in one place (`run_merger`):
`sahakum sync run --loop --nice N` hands N to it, and `sahakum serve --merger-nice N` starts
its mergers with that option."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from server.cli import main
from server.sync import merger
from server.sync.merger import MERGER_NICE, MergerStats, merger_command


def test_merger_command__carries_the_niceness() -> None:
    assert merger_command(123)[-2:] == ["--nice", str(MERGER_NICE)]
    assert merger_command(123, 0)[-2:] == ["--nice", "0"]
    assert MERGER_NICE > 0  # by default intake wins the CPU over merging


@pytest.mark.parametrize(
    ("args", "expected"), [([], MERGER_NICE), (["--nice", "3"], 3), (["--nice", "0"], 0)]
)
def test_sync_run_loop__hands_its_niceness_to_the_merger(
    app: Flask, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: int
) -> None:
    seen: dict[str, Any] = {}

    def fake_run_merger(db: Any, stop: Any, **kwargs: Any) -> MergerStats:
        seen.update(kwargs)
        return MergerStats()

    monkeypatch.setattr(merger, "run_merger", fake_run_merger)
    env = {"SAHAKUM_DATABASE_URL": app.config["SAHAKUM"].database_url,
           "SAHAKUM_INSTANCE_DIR": str(app.config["SAHAKUM"].instance_dir)}
    out = CliRunner().invoke(main, ["sync", "run", "--loop", *args], env=env)
    assert out.exit_code == 0, out.output
    assert seen["nice"] == expected


def test_sync_run__refuses_a_niceness_out_of_range(app: Flask) -> None:
    out = CliRunner().invoke(main, ["sync", "run", "--loop", "--nice", "25"])
    assert out.exit_code == 2 and "--nice" in out.output
