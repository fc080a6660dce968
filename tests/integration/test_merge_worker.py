"""The merge worker: failures recorded without personal data, retried, never lost."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from server.cli import main
from server.db.models import Member, Submission, SubmissionState, SubmissionVersion, UnfitAnswer
from server.db.session import Database
from server.sync import merge
from server.sync.worker import merge_hook, process_pending, process_submission
from tests.integration.test_merge_intake import intake
from tests.support.submissions import add_submission

pytestmark = pytest.mark.usefixtures("published_forms")


def _add(db: Database, answers: dict[str, Any]) -> uuid.UUID:
    with db.transaction() as s:
        return add_submission(s, "member_intake", answers).id


def test_merge_failure__recorded_without_pii_then_retried_from_cli(
    db: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _add(db, intake())

    def boom(ctx: Any) -> None:
        raise RuntimeError("cannot merge Chan Sokha 0970001234")

    monkeypatch.setitem(merge.HANDLERS, "member_intake", boom)
    result = process_submission(db, sid)
    assert not result.ok
    with db.sessionmaker() as s:
        sub = s.get(Submission, sid)
        assert sub.state == SubmissionState.MERGE_FAILED
        assert sub.merge_attempts == 1
        assert sub.merge_error == "RuntimeError"  # the reason, never the answers
        assert s.scalar(select(Member)) is None
        assert s.scalar(select(SubmissionVersion).where(SubmissionVersion.submission_id == sid))

    monkeypatch.undo()
    env = {"SAHAKUM_DATABASE_URL": database_url, "SAHAKUM_INSTANCE_DIR": str(tmp_path)}
    out = CliRunner().invoke(main, ["sync", "retry"], env=env)
    assert out.exit_code == 0, out.output
    assert "merged 1, failed 0" in out.output
    with db.sessionmaker() as s:
        sub = s.get(Submission, sid)
        assert sub.state == SubmissionState.MERGED and sub.merge_error is None
        assert sub.merge_attempts == 2
        assert s.scalar(select(Member)).member_code == "7K3Q9M-X"
        version = s.get(SubmissionVersion, sub.merged_version_id)
        assert merge.merge_lag_seconds(sub, version) >= 0


def test_village_report_without_its_key__merged_and_explained_not_failed(db: Database) -> None:
    """Issue 9 item 9: a report with no village or month cannot be filed, but the submission
    is merged with the reason staff act on, not left failing forever."""
    with db.transaction() as s:
        sid = add_submission(s, "village_data", {"collector": "V1", "any_concern": "no"}).id
    assert process_pending(db, 10).merged == [sid]
    with db.sessionmaker() as s:
        (row,) = s.scalars(select(UnfitAnswer)).all()
        assert (row.field, row.reason) == ("village", "report_key_missing")


def test_merge_error_code__kept_for_staff(db: Database) -> None:
    with db.transaction() as s:
        sub = add_submission(s, "village_data", {"collector": "V1", "any_concern": "no"})
        sub.current_version.xml = b"<data><not-closed>"  # a stored copy that cannot be read
        sid = sub.id
    assert process_pending(db, 10).failed == [sid]
    with db.sessionmaker() as s:
        assert s.get(Submission, sid).merge_error == "MergeError: xml_unreadable"
    # Still pending: a second batch retries it (and fails again, counted).
    process_pending(db, 10)
    with db.sessionmaker() as s:
        assert s.get(Submission, sid).merge_attempts == 2


def test_process_pending__merges_received_oldest_first_once(db: Database) -> None:
    ids = [
        _add(
            db,
            intake(
                member_code=code,
                name_latin=name,
                family_name_km=None,
                given_name_km=None,
                phone=None,
                phone_owner="none",
                origin_village=None,
                origin_commune=None,
            ),
        )
        for code, name in (("AAAAAA-1", "Dara Mey"), ("BBBBBB-2", "Leakhena Som"))
    ]
    result = process_pending(db, 10)
    assert sorted(result.merged, key=str) == sorted(ids, key=str)
    assert process_pending(db, 10).merged == []


def test_create_app__registers_merge_hook(app: Flask) -> None:
    assert merge_hook in app.extensions["sahakum_after_submission"]


def test_sync_run__once(db: Database, database_url: str, tmp_path: Path) -> None:
    _add(db, intake())
    env = {"SAHAKUM_DATABASE_URL": database_url, "SAHAKUM_INSTANCE_DIR": str(tmp_path)}
    out = CliRunner().invoke(main, ["sync", "run"], env=env)
    assert out.exit_code == 0 and "merged 1" in out.output


def test_transient_database_error__retried_then_merged(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    sid = _add(db, intake())
    real = merge.HANDLERS["member_intake"]
    calls = {"n": 0}

    def busy_once(ctx: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # e.g. "database is locked" or a deadlock victim
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        real(ctx)

    monkeypatch.setitem(merge.HANDLERS, "member_intake", busy_once)
    result = process_submission(db, sid)
    assert result.ok and calls["n"] == 2
    with db.sessionmaker() as s:
        sub = s.get(Submission, sid)
        assert sub.state == SubmissionState.MERGED and sub.merge_attempts == 1


def test_sweeper__leaves_fresh_submissions_to_the_hook_and_gives_up_after_max_attempts(
    db: Database,
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from server.db.models import utcnow
    from server.sync.worker import SWEEPER, Sweeper

    fresh, old, hopeless = (
        _add(db, intake(member_code=code)) for code in ("AAAAAA-1", "BBBBBB-2", "CCCCCC-3")
    )
    long_ago = utcnow() - timedelta(hours=1)
    with db.transaction() as s:
        s.execute(update(Submission).where(Submission.id.in_([old, hopeless])).values(updated_at=long_ago))
        s.execute(
            update(Submission)
            .where(Submission.id == hopeless)
            .values(state=SubmissionState.MERGE_FAILED, merge_attempts=SWEEPER.max_attempts)
        )
    result = Sweeper(db).sweep()
    assert result.merged == [old]
    with db.sessionmaker() as s:
        assert s.get(Submission, fresh).state == SubmissionState.RECEIVED
        assert s.get(Submission, hopeless).state == SubmissionState.MERGE_FAILED
    # `sahakum sync retry` still takes everything.
    assert sorted(process_pending(db, 10).merged, key=str) == sorted([fresh, hopeless], key=str)


def test_sweeper_thread__starts_and_stops(db: Database) -> None:
    from server.sync.worker import Sweeper

    sweeper = Sweeper(db, interval=0.01).start()
    sweeper.stop()
    assert not sweeper._thread.is_alive()


def test_concurrent_merges_of_visits_to_one_workplace__all_applied(db: Database) -> None:
    """Two peer educators' offline visits to the same bar merged at the same moment (two server
    processes): both are applied in turn, the conflict recorded, none failed (SQLite included)."""
    import threading

    from server.db.models import EntityConflict, Workplace
    from server.sync import cases
    from tests.integration.test_merge_visit import entity, visit

    with db.transaction() as s:
        wp = cases.create_workplace(s, name_latin="Golden Star KTV", village_code="18010101", actor="t").id
    sids = []
    with db.transaction() as s:
        for i, by in enumerate(("PE07", "PE08", "PE09", "PE10")):
            sids.append(
                add_submission(
                    s,
                    "workplace_visit",
                    visit(wp, collector=by, n_workers_est=str(10 + i)),
                    entity=entity(wp, 1),
                ).id
            )
    barrier = threading.Barrier(len(sids))
    results = []

    def run(sid: uuid.UUID) -> None:
        barrier.wait()
        results.append(process_submission(db, sid))

    threads = [threading.Thread(target=run, args=(sid,)) for sid in sids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.ok for r in results), [r.error for r in results]
    with db.sessionmaker() as s:
        assert s.get(Workplace, wp).version == 1 + len(sids)
        assert len(s.scalars(select(EntityConflict)).all()) == len(sids) - 1


def _several(db: Database, n: int) -> list[uuid.UUID]:
    """``n`` intakes of different women (no pairs between them), stored in this order."""
    names = ("Dara Mey", "Leakhena Som", "Sreymom Keo", "Channary Lim", "Bopha Chea")
    return [_add(db, intake(member_code=f"{c * 6}-{i}", name_latin=names[i], family_name_km=None,
                            given_name_km=None, phone=None, phone_owner="none"))
            for i, c in enumerate("ABCDE"[:n])]


def test_process_pending__a_failing_merge_in_a_batch_loses_none_of_the_others(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL merges several claimed submissions per transaction, each in a savepoint: the
    one that fails is rolled back and recorded alone, the members of the others are kept."""
    ids = _several(db, 5)
    real = merge.HANDLERS["member_intake"]

    def fails_for_the_third(ctx: Any) -> None:
        if ctx.submission.id == ids[2]:
            real(ctx)  # writes its member, then fails: the savepoint must take the member back
            raise RuntimeError("cannot merge Chan Sokha")
        real(ctx)

    monkeypatch.setitem(merge.HANDLERS, "member_intake", fails_for_the_third)
    result = process_pending(db, 10)
    assert result.failed == [ids[2]]
    assert sorted(result.merged, key=str) == sorted(ids[:2] + ids[3:], key=str)
    with db.sessionmaker() as s:
        assert s.get(Submission, ids[2]).state == SubmissionState.MERGE_FAILED
        assert s.get(Submission, ids[2]).merge_error == "RuntimeError"
        assert s.get(Submission, ids[2]).merge_attempts == 1
        assert s.scalar(select(Member).where(Member.source_submission_id == ids[2])) is None
        kept = s.scalars(select(Member.source_submission_id)).all()
        assert sorted(kept, key=str) == sorted(ids[:2] + ids[3:], key=str)
        assert all(s.get(Submission, i).state == SubmissionState.MERGED for i in ids if i != ids[2])


def test_process_pending__a_transient_error_in_a_batch_is_retried_alone(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    ids = _several(db, 4)
    real = merge.HANDLERS["member_intake"]
    calls: dict[uuid.UUID, int] = {}

    def deadlock_once(ctx: Any) -> None:
        calls[ctx.submission.id] = calls.get(ctx.submission.id, 0) + 1
        real(ctx)
        if ctx.submission.id == ids[1] and calls[ids[1]] == 1:
            raise OperationalError("UPDATE ...", {}, Exception("deadlock detected"))

    monkeypatch.setitem(merge.HANDLERS, "member_intake", deadlock_once)
    result = process_pending(db, 10)
    assert not result.failed
    assert sorted(result.merged, key=str) == sorted(ids, key=str)
    assert calls[ids[1]] == 2 and all(calls[i] == 1 for i in ids if i != ids[1])
    with db.sessionmaker() as s:
        assert len(s.scalars(select(Member)).all()) == 4
        assert s.get(Submission, ids[1]).merge_attempts == 1
