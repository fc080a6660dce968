"""Merger processes: intake only stores, these merge (issue 10, design.md example 8).

``run_merger`` is the loop of one merger process (``sahakum sync run --loop``; ``sahakum serve``
starts and supervises some with ``MergerPool``). It merges everything received, then sleeps
until it is woken:

* PostgreSQL: mergers LISTEN on ``sahakum_merge``; every app process that stores a new or
  edited submission sends one ``NOTIFY`` after its commit (``Notifier``, an after-submission
  hook), whichever server it runs on. Not from the storing transaction itself: a transaction
  that notifies holds PostgreSQL's global notify lock through its commit flush, which would
  serialise every intake commit (measured: 118/s instead of 4,000/s group commits at c=16).
  Claims use ``FOR UPDATE SKIP LOCKED`` (worker.process_pending): any number of mergers and
  app servers share one database and never merge a submission twice.
* SQLite: one writer at a time; the same loop polls every ``SQLITE_POLL`` seconds.

A merge and its claim are one transaction (on PostgreSQL up to ``worker.CLAIM_BATCH`` claimed
submissions share one, each merged in its own savepoint), so a merger that dies mid-merge loses
nothing: the submissions are still ``received`` and the next claim takes them. Mergers run at
a lower CPU priority than the app (``MERGER_NICE``). Failed merges are retried by the
sweep (worker.SWEEPER) once a minute, as before.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import make_url

from server.db.session import Database
from server.sync.heartbeat import Heartbeat
from server.sync.worker import FRESH, SWEEPER, BatchResult, process_pending

logger = logging.getLogger(__name__)

CHANNEL = "sahakum_merge"
SQLITE_POLL = 0.2  # seconds; SQLite has no NOTIFY
SAFETY_POLL = 2.0  # PostgreSQL: look anyway now and then (a missed wake-up costs at most this)
SWEEP_EVERY = 60.0
#: A merger runs at a lower CPU priority than the app: on a busy machine the scheduler gives the
#: cores to intake first (a submission is acknowledged only once stored; merging can lag).
# Mergers run this much nicer than the web workers: a 201 must never wait behind a merge.
# Under CFS a nice-10 task gets about a tenth of a busy core against nice 0, and all that intake
# leaves idle, so merging catches up between bursts.
MERGER_NICE = 10


class Wakeup(Protocol):
    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class PollWakeup:
    """SQLite: nothing to listen to; sleep a little (or until stopped)."""

    def __init__(self, interval: float, stop: threading.Event) -> None:
        self.interval = interval
        self.stop = stop

    def wait(self, timeout: float) -> bool:
        self.stop.wait(min(timeout, self.interval))
        return False

    def close(self) -> None:
        pass


class PgWakeup:
    """PostgreSQL: LISTEN on its own autocommit connection (outside the SQLAlchemy pool)."""

    def __init__(self, url: str) -> None:
        import psycopg

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        woken = any(True for _ in self.conn.notifies(timeout=timeout, stop_after=1))
        if woken:
            # One pass merges everything committed so far: drop the wake-ups already queued.
            for _ in self.conn.notifies(timeout=0):
                pass
        return woken

    def close(self) -> None:
        self.conn.close()


class Notifier:
    """The app side of the wake-up: `poke()` costs the request nothing; a thread sends one
    NOTIFY for each burst of pokes on its own autocommit connection (reconnecting after an
    error: mergers also look every SAFETY_POLL seconds, so a lost wake-up only delays)."""

    def __init__(self, url: str) -> None:
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._poked = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def __call__(self, _app: object, _submission_id: object) -> None:
        """As an after-submission hook (runs once the 201 is sent)."""
        self.poke()

    def poke(self) -> None:
        self._poked.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None:  # started lazily: in the gunicorn worker, after fork
                    self._thread = threading.Thread(target=self._run, name="sahakum-notify", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        import psycopg

        conn: psycopg.Connection | None = None
        while True:
            self._poked.wait()
            self._poked.clear()
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.conninfo, autocommit=True)
                conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
                self.sent += 1
            except psycopg.Error as exc:
                logger.warning("could not wake the mergers: %s", type(exc).__name__)
                conn = None
                time.sleep(1.0)


def make_wakeup(db: Database, stop: threading.Event) -> Wakeup:
    return PollWakeup(SQLITE_POLL, stop) if db.is_sqlite else PgWakeup(db.url)


@dataclass
class MergerStats:
    merged: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, result: BatchResult) -> None:
        self.merged += len(result.merged)
        self.failed += len(result.failed)
        self.skipped += len(result.skipped)


def run_merger(
    db: Database,
    stop: threading.Event,
    *,
    batch: int = 100,
    poll: float = SAFETY_POLL,
    sweep_every: float = SWEEP_EVERY,
    parent_pid: int | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
    nice: int = MERGER_NICE,
) -> MergerStats:
    """Merge until `stop` is set (or the parent process is gone, when `parent_pid` is given).
    ``nice``: added to the niceness of the calling thread (Linux: of this merger's thread only)."""
    stats = MergerStats()
    lower_priority(nice)
    # LISTEN before the first look: a submission committed in between still wakes us.
    wakeup = make_wakeup(db, stop)
    heartbeat = Heartbeat(db)
    next_sweep = 0.0
    try:
        while not stop.is_set():
            heartbeat.beat()
            if parent_pid is not None and os.getppid() != parent_pid:
                logger.warning("merger: the server that started it is gone; stopping")
                break
            if time.monotonic() >= next_sweep:
                _tally(stats, process_pending(db, batch, SWEEPER), on_batch)
                next_sweep = time.monotonic() + sweep_every
            result = process_pending(db, batch, FRESH)
            _tally(stats, result, on_batch)
            if len(result.merged) + len(result.failed) + len(result.skipped) >= batch:
                continue  # a backlog: keep going without waiting
            wakeup.wait(poll)
    finally:
        wakeup.close()
        heartbeat.stop()
    return stats


def lower_priority(nice: int) -> None:
    if nice <= 0:
        return
    try:
        os.nice(nice)
    except OSError as exc:  # not allowed, or no such call on this platform: merge anyway
        logger.warning("merger: could not lower its priority: %s", type(exc).__name__)


def _tally(stats: MergerStats, result: BatchResult, on_batch: Callable[[BatchResult], None] | None) -> None:
    stats.add(result)
    if on_batch is not None and (result.merged or result.failed):
        on_batch(result)


def merger_command(parent_pid: int, nice: int = MERGER_NICE) -> list[str]:
    """A merger process: the same interpreter and environment (settings) as the server; it
    lowers its own priority by `nice` (one place for that rule: `run_merger`)."""
    return [sys.executable, "-m", "server", "sync", "run", "--loop", "--parent-pid", str(parent_pid),
            "--nice", str(nice)]


class MergerPool:
    """Merger processes started by `sahakum serve` and restarted when one dies.

    They run in their own session (a Ctrl-C on the terminal reaches gunicorn, which stops us,
    and we stop them) and exit by themselves if the server process is killed outright."""

    def __init__(
        self,
        count: int,
        command: Sequence[str],
        *,
        check_every: float = 0.5,
        min_uptime: float = 5.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.count = count
        self.command = list(command)
        self.check_every = check_every
        self.min_uptime = min_uptime
        self.max_backoff = max_backoff
        self.procs: list[subprocess.Popen[bytes]] = []
        self._started: list[float] = []
        self._backoff: list[float] = []
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sahakum-mergers", daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command, start_new_session=True, stdin=subprocess.DEVNULL)

    def start(self) -> MergerPool:
        for _ in range(self.count):
            self.procs.append(self._spawn())
            self._started.append(time.monotonic())
            self._backoff.append(0.0)
        self._thread.start()
        return self

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _watch(self) -> None:
        while not self._stop.wait(self.check_every):
            for i, proc in enumerate(self.procs):
                code = proc.poll()
                if code is None or self._stop.is_set():
                    continue
                self._restart(i, code)

    def _restart(self, i: int, code: int) -> None:
        lived = time.monotonic() - self._started[i]
        # A merger that keeps dying at once (bad configuration, database down) is restarted
        # with a growing delay instead of in a tight loop.
        quick = lived < self.min_uptime
        self._backoff[i] = min(self.max_backoff, max(1.0, self._backoff[i] * 2)) if quick else 0.0
        logger.warning("merger process %s exited with %s; restarting", self.procs[i].pid, code)
        if self._backoff[i] and self._stop.wait(self._backoff[i]):
            return
        self.procs[i] = self._spawn()
        self._started[i] = time.monotonic()
        self.restarts += 1

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


