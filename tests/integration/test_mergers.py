"""Merger processes: intake only stores; mergers claim, merge once, survive crashes (issue 10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.db.models import Member, Submission, SubmissionState
from server.db.session import Database
from server.sync.merger import MergerPool, Notifier, run_merger
from tests.integration.test_merge_intake import intake
from tests.support.submissions import add_submission

pytestmark = pytest.mark.usefixtures("published_forms")


def _add_intakes(db: Database, n: int, start: int = 0) -> list[uuid.UUID]:
    with db.transaction() as s:
        return [
            add_submission(
                s, "member_intake",
                intake(member_code=f"M{i:05d}-X", name_latin=f"Person {i}", phone=f"09700{i:05d}"),
            ).id
            for i in range(start, start + n)
        ]


def _states(db: Database, ids: list[uuid.UUID]) -> dict[SubmissionState, int]:
    with db.sessionmaker() as s:
        rows = s.execute(
            select(Submission.state, func.count()).where(Submission.id.in_(ids)).group_by(Submission.state)
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def _wait_merged(db: Database, ids: list[uuid.UUID], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _states(db, ids).get(SubmissionState.MERGED, 0) == len(ids):
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"not merged within {timeout}s: {_states(db, ids)}")


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SAHAKUM_DATABASE_URL": database_url,
        "SAHAKUM_INSTANCE_DIR": str(tmp_path / "instance"),
        "SAHAKUM_LOG_LEVEL": "WARNING",
    }


def test_run_merger__merges_what_is_stored_while_it_runs_then_stops(db: Database) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=run_merger, args=(db, stop), kwargs={"poll": 0.05})
    thread.start()
    try:
        ids = _add_intakes(db, 3)
        _wait_merged(db, ids, timeout=20)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.postgres_only
def test_run_merger__woken_by_the_app_after_its_commit_not_by_polling(db: Database) -> None:
    """With a 30 s poll, only the NOTIFY sent after the commit can make the merge this quick."""
    notifier = Notifier(db.url)
    stop = threading.Event()
    thread = threading.Thread(target=run_merger, args=(db, stop), kwargs={"poll": 30.0})
    thread.start()
    try:
        time.sleep(1.0)  # the merger has looked once and is now waiting
        ids = _add_intakes(db, 1)
        notifier.poke()
        assert _wait_merged(db, ids, timeout=10) < 5.0
        assert notifier.sent >= 1
    finally:
        stop.set()
        notifier.poke()  # wakes it so that it sees `stop`
        thread.join(10)
    assert not thread.is_alive()


def _merger(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server", "sync", "run", "--loop", "--limit", "5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _merged_count(out: str) -> int:
    line = next(x for x in out.splitlines() if x.startswith("merger stopped:"))
    return int(line.split("merged ")[1].split(",")[0])


@pytest.mark.postgres_only
def test_two_merger_processes__share_the_work_and_never_merge_one_submission_twice(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    procs = [_merger(env), _merger(env)]
    try:
        ids = _add_intakes(db, 30) + _add_intakes(db, 30, start=30)
        _wait_merged(db, ids, timeout=300)
    finally:
        outs = []
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            outs.append(proc.communicate(timeout=60))
    counts = [_merged_count(out) for out, _ in outs]
    assert sum(counts) == len(ids), (counts, [err[-500:] for _, err in outs])
    assert all(c > 0 for c in counts), counts  # both took part
    with db.sessionmaker() as s:
        attempts = s.scalars(select(Submission.merge_attempts).where(Submission.id.in_(ids))).all()
        assert set(attempts) == {1}
        assert s.scalar(select(func.count()).select_from(Member)) == len(ids)


def test_merger_killed_mid_work__loses_nothing(db: Database, database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path)
    ids = _add_intakes(db, 20)
    first = _merger(env)
    deadline = time.monotonic() + 240
    while _states(db, ids).get(SubmissionState.MERGED, 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.kill()  # SIGKILL while it works through the backlog: no chance to finish a transaction
    first.communicate(timeout=30)
    states = _states(db, ids)
    assert states.get(SubmissionState.MERGED, 0) < len(ids)  # it was stopped mid-work
    assert states.get(SubmissionState.MERGE_FAILED, 0) == 0
    second = _merger(env)
    try:
        _wait_merged(db, ids, timeout=300)
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == len(ids)


def test_merger_pool__restarts_a_merger_that_died_and_stops_them_all() -> None:
    pool = MergerPool(2, [sys.executable, "-c", "import time; time.sleep(60)"], check_every=0.05).start()
    try:
        before = pool.pids
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pool.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.restarts == 1
        assert pool.pids[1] == before[1] and pool.pids[0] != before[0]
        assert all(p.poll() is None for p in pool.procs)
    finally:
        pool.stop(timeout=5)
    assert all(p.poll() is not None for p in pool.procs)


def test_run_merger__lowers_its_own_priority_not_the_apps(db: Database) -> None:
    """A merger yields the CPU to intake (Linux: the niceness of the merging thread only)."""
    from server.sync.merger import MERGER_NICE

    seen: dict[str, int] = {}

    def merger() -> None:
        me = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, me)
        stop = threading.Event()
        stop.set()
        run_merger(db, stop, poll=0.01)
        seen["before"], seen["after"] = before, os.getpriority(os.PRIO_PROCESS, me)

    app_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=merger)
    thread.start()
    thread.join(10)
    assert seen["after"] == min(19, seen["before"] + MERGER_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == app_before
