"""Benchmark: one merger process draining mixed submissions, and visit merges on a busy workplace.

    .venv/bin/python bench/merge_throughput.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/merge_throughput.py --sqlite [--size 10000] [--n 1000] [--hot 300]

On a fresh database (PostgreSQL: a scratch ``bench_merge_*`` database, dropped afterwards;
SQLite: a temporary file), with ``--size`` members seeded as bench/merge_latency.py does:

1. **visit latency and history**: ``--hot`` workplace_visit submissions to ONE workplace are
   merged one by one (``worker.process_submission``); the p50/p95 of the first and the last
   50 (``--hot`` 300: visits 251-300) show whether a visit's merge grows with the visits its
   workplace already has; then 100 visits to other workplaces (no history) for comparison;
2. **throughput**: ``--n`` mixed submissions (half member_intake from the linkage generator:
   repeats, sisters, new people, minors; half workplace_visit to random workplaces) are stored
   first, then ONE process drains them with ``worker.process_pending`` (claim + merge + commit
   each): merges per second, wall clock.

Prints a markdown table and writes bench/out/merge_throughput.md. The machine is shared: run it
several times and quote medians.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import merge_latency as ml  # noqa: E402

from server.db.session import Database  # noqa: E402
from server.sync import worker  # noqa: E402
from tests.support.submissions import add_submission, collector  # noqa: E402

OUT = BENCH / "out" / "merge_throughput.md"


def visit_answers(wp: uuid.UUID, day: int, rng: random.Random) -> dict[str, str]:
    """A routine visit as Collect sends it; now and then a refused door or an under-18 sign."""
    when = (ml.MEASURE_START + timedelta(days=day)).isoformat()
    return {
        "start": f"{when}T19:00:00.000+07:00",
        "collector": "PE07",
        "visit_date": when,
        "workplace_in_list": "yes",
        "workplace": str(wp),
        "visit_type": "routine",
        "access": rng.choice(["inside_freely", "inside_freely", "outside_only", "refused"]),
        "manager_attitude": "neutral",
        "n_workers_est": str(rng.randrange(5, 40)),
        "n_met": str(rng.randrange(1, 8)),
        "n_members_present": "1",
        "u18_suspected": "yes" if rng.random() < 0.05 else "no",
        "fl_seen": "none",
        "locked_in": "no",
        "forced_drinking": "no",
        "shift_hours": "8",
        "days_off": "3_4",
        "pay_type": "salary",
        "pe_safety": "safe",
    }


def store(db: Database, items: list[tuple[str, dict[str, str]]]) -> list[uuid.UUID]:
    with db.transaction() as s:
        by = collector(s, "PE07")
        return [add_submission(s, form, answers, by=by).id for form, answers in items]


CPU_MS: list[float] = []  # CPU ms of this process per timed merge (load-independent)


def timed_merges(db: Database, ids: list[uuid.UUID]) -> list[float]:
    out: list[float] = []
    for sid in ids:
        t0, c0 = time.perf_counter(), time.process_time()
        result = worker.process_submission(db, sid)
        out.append((time.perf_counter() - t0) * 1000)
        CPU_MS.append((time.process_time() - c0) * 1000)
        assert result.ok, result.error
    return out


def stats(ms: list[float]) -> str:
    return f"{statistics.median(ms):.1f} / {ml.percentile(ms, 0.95):.1f}"


def run_database(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    ml.migrate.upgrade(url)
    db = Database(url)
    gen = ml.lq.Generator(args.seed)
    rng = random.Random(args.seed)
    with db.transaction() as s:
        for path in ml.default_form_paths():
            ml.publish_xlsform(s, path)
        ml.load_villages(s)
        wps = {}
        for w in gen.workplaces:
            village = random.Random(w).choice(["18010101", "18010201", "12010101"])
            wps[w] = ml.cases.create_workplace(s, name_latin=f"Bench KTV {w}", type="karaoke",
                                               village_code=village,
                                               status=ml.WorkplaceStatus.OPEN).id
    world = ml.World(gen, wps)
    row: dict[str, Any] = {"db": kind}
    try:
        ml.seed_members(db, world, args.size)
        row["size"] = args.size
        hot, *others = list(wps.values())
        hot_ids = store(db, [("workplace_visit", visit_answers(hot, i % 700, rng)) for i in range(args.hot)])
        hot_ms = timed_merges(db, hot_ids)
        row["hot_first"] = stats(hot_ms[:50])
        row["hot_last"] = stats(hot_ms[-50:])
        cold_ids = store(db, [("workplace_visit", visit_answers(rng.choice(others), rng.randrange(700), rng))
                              for _ in range(100)])  # fmt: skip
        CPU_MS.clear()
        row["cold"] = stats(timed_merges(db, cold_ids))
        row["cold_cpu"] = statistics.median(CPU_MS)
        items: list[tuple[str, dict[str, str]]] = []
        for _kind, x in ml.make_intakes(world, args.n // 2):
            items.append(("member_intake", ml.form_answers(x, wps)))
        items += [("workplace_visit", visit_answers(rng.choice(others), rng.randrange(700), rng))
                  for _ in range(args.n - len(items))]  # fmt: skip
        rng.shuffle(items)
        store(db, items)
        t0, c0 = time.perf_counter(), time.process_time()
        batch = worker.process_pending(db, limit=len(items) + 10)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        row.update(n=len(items), merged=len(batch.merged), failed=len(batch.failed), seconds=seconds,
                   rate=len(batch.merged) / seconds, cpu_ms=cpu * 1000 / max(1, len(batch.merged)))
        print(f"[{kind}] {row}", file=sys.stderr)
    finally:
        db.dispose()
    return row


def table(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        "# Merge throughput and visit latency", "", f"`{command}`", "",
        "| database | members | visits, 1st 50 on a busy workplace p50 / p95 ms "
        "| its last 50 visits | visits, other workplaces | visit CPU ms (p50) | mixed merges "
        "| merged/s (one process) | merger CPU ms per mixed merge |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['db']} | {r['size']:,} | {r['hot_first']} | {r['hot_last']} | {r['cold']} "
                     f"| {r['cold_cpu']:.1f} | {r['merged']:,} ({r['failed']} failed) | **{r['rate']:.0f}** "
                     f"| {r['cpu_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--size", type=int, default=10_000, help="members seeded first")
    parser.add_argument("--n", type=int, default=1_000, help="mixed submissions drained")
    parser.add_argument("--hot", type=int, default=300, help="visits to one workplace")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="--size 2000 --n 300 --hot 100")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.n, args.hot = 2000, 300, 100
    if not args.pg and not args.sqlite:
        args.sqlite = True
    rows = []
    if args.pg:
        url, name = ml.fresh_pg(args.pg)
        try:
            rows.append(run_database("postgresql", url, args))
        finally:
            ml.drop_pg(args.pg, name)
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="sahakum-merge-bench-") as tmp:
            rows.append(run_database("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args))
    command = "python bench/merge_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])
    md = table(rows, command)
    print(md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a", encoding="utf-8") as fh:
        fh.write(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
