# ruff: noqa: F811  (pytest fixtures imported from tests.support.fixtures are parameters here)
"""Races between intake and merging (issue 11): an edit right after its original while mergers
run, and identical resends of one edit, never answer Collect with a 500 or a 409."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from server.db.models import Submission, SubmissionState, SubmissionVersion
from server.sync.merger import run_merger
from server.sync.worker import merge_hook
from tests.integration.test_openrosa_submission import count, fill
from tests.support.collect import CollectClient
from tests.support.fixtures import accounts, pe  # noqa: F401

PAIRS = 15


def _instance_id(xml: bytes) -> str:
    return xml.split(b"<instanceID>")[1].split(b"</instanceID>")[0].decode()


def _run_threads(target, args_list) -> None:
    threads = [threading.Thread(target=target, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)


def test_edit_right_after_its_original__no_deadlock_all_201_all_merged(published_forms, app, pe, db):
    """Each edit is posted the moment its original is stored, while two merger loops (and the
    after-reply merge) merge the original: intake and merge lock in one order, and a lost race
    is retried inside the server, never shown to Collect."""
    pairs = []
    for i in range(PAIRS):
        original = fill(pe, "workplace_visit", answers={"note": f"first {i}"})
        edit = fill(pe, "workplace_visit", answers={"note": f"edited {i}"},
                    deprecated_id=_instance_id(original))
        pairs.append((original, edit))
    # Only the merger loops merge here (as under `sahakum serve`): the original's merge runs
    # while its edit arrives, instead of before the 201 of the original has been read.
    hooks = app.extensions["sahakum_after_submission"]
    hooks.remove(merge_hook)
    stop = threading.Event()
    mergers = [threading.Thread(target=run_merger, args=(db, stop), kwargs={"poll": 0.005, "batch": 1})
               for _ in range(3)]
    for m in mergers:
        m.start()
    statuses: list[tuple[int, int]] = []
    barrier = threading.Barrier(PAIRS)

    def send(original: bytes, edit: bytes) -> None:
        collect = CollectClient(app.test_client(), pe.server_url)
        barrier.wait()
        first = collect.post(original).status_code
        statuses.append((first, collect.post(edit).status_code))

    try:
        _run_threads(send, pairs)
    finally:
        stop.set()
        for m in mergers:
            m.join(30)
    assert statuses == [(201, 201)] * PAIRS
    assert count(db, Submission) == PAIRS and count(db, SubmissionVersion) == 2 * PAIRS
    # Whatever merged first, the edit is merged in the end (a merger or the sweep of a failure).
    with db.transaction() as s:
        ids = s.scalars(select(Submission.id).where(Submission.state != SubmissionState.MERGED)).all()
    for sid in ids:
        merge_hook(app, sid)
    with db.transaction() as s:
        states = dict(s.execute(select(Submission.state, func.count()).group_by(Submission.state)).all())
        assert states == {SubmissionState.MERGED: PAIRS}
        unmerged_current = s.scalar(
            select(func.count()).select_from(SubmissionVersion)
            .join(Submission, Submission.id == SubmissionVersion.submission_id)
            .where(SubmissionVersion.is_current, Submission.merged_version_id != SubmissionVersion.id)
        )
        assert unmerged_current == 0


@pytest.mark.parametrize("senders", [20, 40])
def test_identical_resends_of_an_accepted_edit__all_201_one_version(published_forms, app, pe, db, senders):
    original = fill(pe, "workplace_visit")
    assert pe.submit(original)[0].status_code == 201
    edit = fill(pe, "workplace_visit", answers={"note": "edited"}, deprecated_id=_instance_id(original))
    statuses: list[int] = []
    barrier = threading.Barrier(senders)

    def send() -> None:
        collect = CollectClient(app.test_client(), pe.server_url)
        barrier.wait()
        statuses.append(collect.post(edit).status_code)

    _run_threads(send, [()] * senders)
    assert statuses == [201] * senders
    assert count(db, Submission) == 1 and count(db, SubmissionVersion) == 2


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg reports PostgreSQL's "deadlock detected"


def test_lost_race_while_storing__retried_inside_the_server(published_forms, pe, db, monkeypatch):
    """Whatever lock order cannot prevent (a deadlock, a serialization failure) is retried:
    the edit is stored once and Collect gets its 201."""
    from sqlalchemy.exc import OperationalError

    from server.api.openrosa import submission as endpoint

    original = fill(pe, "workplace_visit")
    assert pe.submit(original)[0].status_code == 201
    edit = fill(pe, "workplace_visit", answers={"note": "edited"}, deprecated_id=_instance_id(original))
    real = endpoint.ingest_submission
    calls: list[int] = []

    def loses_twice(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            real(*args, **kwargs)  # the statements ran, then the database chose this victim
            raise OperationalError("UPDATE submissions", {}, _Deadlock())
        return real(*args, **kwargs)

    monkeypatch.setattr(endpoint, "ingest_submission", loses_twice)
    assert pe.post(edit).status_code == 201
    assert len(calls) == 3
    assert count(db, Submission) == 1 and count(db, SubmissionVersion) == 2
