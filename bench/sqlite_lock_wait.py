"""How long an intake waits for SQLite's write lock while a merger keeps merging.

    .venv/bin/python bench/sqlite_lock_wait.py [--hold-ms 30] [--n 60] [--quick]

A child process plays the merger: write transactions back to back, each holding the lock
``--hold-ms`` (a merge's length), with no pause between merges. The parent plays intake:
``--n`` write transactions opened like intake's (``Database.intake_connection``), spaced at
random, timing how long each waited for the lock. Prints the median and p95 wait.
Sleep-based, so it reads the same on a loaded machine as on a quiet one (within a few ms).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from server.db.session import Database


def merger(url: str, hold_s: float, stop: float) -> None:
    db = Database(url)
    while time.time() < stop:
        with db.transaction(lock_for_write=True) as s:
            s.execute(text("UPDATE t SET n = n + 1"))
            time.sleep(hold_s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hold-ms", type=float, default=30.0)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--quick", action="store_true", help="20 intakes")
    args = ap.parse_args(argv)
    n = 20 if args.quick else args.n
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/lock.sqlite3"
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (0)"))
        stop = time.time() + 600
        child = mp.get_context("spawn").Process(target=merger, args=(url, args.hold_ms / 1000, stop))
        child.start()
        time.sleep(1.0)
        waits: list[float] = []
        try:
            for _ in range(n):
                time.sleep(random.uniform(0.0, 0.05))
                t0 = time.perf_counter()
                with db.intake_connection() as conn:
                    conn.execute(text("SELECT 1"))  # BEGIN IMMEDIATE has run: the lock is ours
                    waits.append((time.perf_counter() - t0) * 1000)
                    conn.execute(text("UPDATE t SET n = n + 1"))
                    conn.commit()
        finally:
            child.terminate()
            child.join()
            db.dispose()
    waits.sort()
    p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))]
    print(f"intake wait for the write lock behind a merger holding it {args.hold_ms:.0f} ms per merge: "
          f"median {statistics.median(waits):.1f} ms, p95 {p95:.1f} ms, max {waits[-1]:.1f} ms (n={n})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
