"""Print the SQL statements of a few member_intake merges (SQLite, small seed), for tuning.

    .venv/bin/python bench/trace_merge.py [--n 3] [--size 500]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import merge_latency as ml


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--visits", action="store_true",
                    help="trace workplace_visit merges (U18 + SEC alerts) instead of intakes")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/trace.db"
    ml.migrate.upgrade(url)
    db = ml.Database(url)
    gen = ml.lq.Generator(1)
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
    ml.seed_members(db, world, args.size)
    meter = ml.SqlMeter(db)
    ml.measure(db, world, 5, meter)
    log: list[str] = []

    def record(_c: object, _cur: object, st: str, _p: object, _ctx: object, many: bool) -> None:
        log.append(("MANY " if many else "") + " ".join(st.split())[:160])

    event.listen(db.engine, "before_cursor_execute", record)
    if args.visits:
        trace_visits(db, wps, args.n, log)
    else:
        ml.measure(db, world, args.n, meter)
    for line in log:
        print(line)
    print(len(log), "statements for", args.n, "merges (plus submission inserts)")


def trace_visits(db: ml.Database, wps: dict, n: int, log: list[str]) -> None:
    from tests.integration.test_merge_visit import entity, visit

    wp_id = next(iter(wps.values()))
    for i in range(n + 1):
        with db.transaction() as s:
            by = ml.collector(s, "PE07")
            sid = ml.add_submission(
                s, "workplace_visit",
                visit(wp_id, u18_suspected="yes", n_u18="2", pe_safety="threatened",
                      visit_date=f"2026-11-{10 + i:02d}"),
                entity=entity(wp_id, 1 + i), by=by,
            ).id
        start = len(log)
        t0 = ml.time.perf_counter()
        ml.process_submission(db, sid)
        print(f"visit {i}: {(ml.time.perf_counter() - t0) * 1000:.1f} ms, {len(log) - start} statements")


if __name__ == "__main__":
    main()
