"""Benchmark: the duplicate review queue API with many pending pairs.

    .venv/bin/python bench/duplicates_api.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/duplicates_api.py --sqlite [--pairs 10000] [--repeat 30]

Seeds ``--pairs`` pending candidate pairs (two thirds between members with names, phones and
nicknames, one third between workplaces with names; in clusters of 2-12 records, as the merge
makes them) in a fresh database (PostgreSQL: a scratch ``bench_merge_*`` database, dropped
afterwards), then times the staff API in-process (Flask test client, a case worker's token, so
every member shown is audited as in production): the first page of ``GET /api/v1/duplicates``
(50 pairs with both records), a deep page, one cluster's pairs, and ``GET
/api/v1/duplicates/clusters``. Median and p95 of ``--repeat`` requests each. Writes
bench/out/duplicates_api.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import merge_latency as ml  # noqa: E402

from server import create_app  # noqa: E402
from server.accounts.staff import create_staff  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db.models import (  # noqa: E402
    AliasKind,
    CandidatePair,
    EntityType,
    Member,
    MemberAlias,
    MemberPhone,
    PairStatus,
    StaffRole,
    Workplace,
    WorkplaceName,
)
from server.db.session import Database  # noqa: E402
from server.sync.clusters import ordered_pair  # noqa: E402

OUT = BENCH / "out" / "duplicates_api.md"


def seed(db: Database, n_pairs: int, rng: random.Random) -> uuid.UUID:
    """Members, workplaces and pending pairs in clusters; returns one cluster id."""
    now = datetime.now(UTC)
    members: list[dict[str, Any]] = []
    workplaces: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    some_cluster = uuid.uuid4()
    while len(pairs) < n_pairs:
        is_member = rng.random() < 2 / 3
        size = rng.randrange(2, 13)
        cluster = uuid.uuid4() if pairs else some_cluster
        ids = [uuid.uuid4() for _ in range(size)]
        for i in ids:
            if is_member:
                members.append({"id": i, "given_name_km": "សុខា",
                                "name_latin_raw": f"Sokha {rng.randrange(999)}",
                                "version": 1, "created_at": now, "updated_at": now})  # fmt: skip
            else:
                workplaces.append({"id": i, "workplace_code": f"W{len(workplaces):07d}", "type": "karaoke",
                                   "version": 1, "created_at": now, "updated_at": now})  # fmt: skip
        for k in range(1, size):
            a, b = ordered_pair(ids[k], ids[rng.randrange(k)])
            entity_type = EntityType.MEMBER if is_member else EntityType.WORKPLACE
            pairs.append({"id": uuid.uuid4(), "entity_type": entity_type,
                          "a_id": a, "b_id": b, "score": round(rng.random(), 3), "band": "possible",
                          "evidence": {"codes": ["khmer_given_name_equal", "origin_village_equal"]},
                          "status": PairStatus.PENDING, "created_at": now, "row_version": 1,
                          "cluster_id": cluster})  # fmt: skip
    with db.transaction() as s:
        for chunk in range(0, len(members), 5000):
            part = members[chunk:chunk + 5000]
            s.execute(insert(Member), part)
            s.execute(insert(MemberPhone), [{"member_id": m["id"], "phone_e164": "+85512000000",
                                             "owner_type": "own"} for m in part])  # fmt: skip
            s.execute(insert(MemberAlias), [{"member_id": m["id"], "kind": AliasKind.NICKNAME,
                                             "value": "Kha"} for m in part])  # fmt: skip
        for chunk in range(0, len(workplaces), 5000):
            part = workplaces[chunk:chunk + 5000]
            s.execute(insert(Workplace), part)
            s.execute(insert(WorkplaceName), [{"workplace_id": w["id"], "name_latin": "Happy KTV"}
                                              for w in part])  # fmt: skip
        for chunk in range(0, len(pairs), 5000):
            s.execute(insert(CandidatePair), pairs[chunk:chunk + 5000])
    return some_cluster


PROFILER: Any = None  # a cProfile.Profile with --profile


def timed(client: Any, url: str, headers: dict[str, str], repeat: int) -> tuple[float, float, int, float]:
    """(median ms, p95 ms, items, median CPU ms of this process: the app and, on SQLite, the
    database; a figure that a loaded machine hardly changes)."""
    ms: list[float] = []
    cpu: list[float] = []
    count = 0
    for _ in range(repeat):
        if PROFILER is not None:
            PROFILER.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        r = client.get(url, headers=headers)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        if PROFILER is not None:
            PROFILER.disable()
        assert r.status_code == 200, r.data[:200]
        count = len(r.get_json())
    return statistics.median(ms), ml.percentile(ms, 0.95), count, statistics.median(cpu)


def run_database(kind: str, url: str, args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    ml.migrate.upgrade(url)
    db = Database(url)
    rng = random.Random(args.seed)
    try:
        cluster = seed(db, args.pairs, rng)
        with db.transaction() as s:
            _user, token = create_staff(s, "bench-case", StaffRole.CASE)
            pending = s.scalar(select(ml.func.count()).select_from(CandidatePair)) or 0
        settings = Settings(database_url=url, data_dir=tmp / "data", secret_key="bench-secret-key-0123456789",
                            base_url=None, max_submission_bytes=10_000_000, instance_dir=tmp / "instance")
        app = create_app(settings, {"TESTING": True})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        rows = []
        for label, path in (
            ("first page (50 pairs, both records)", "/api/v1/duplicates"),
            ("page 100", "/api/v1/duplicates?page=100"),
            ("one cluster's pairs", f"/api/v1/duplicates?cluster_id={cluster}"),
            ("clusters, first page", "/api/v1/duplicates/clusters"),
        ):
            timed(client, path, headers, 2)  # warm-up
            p50, p95, count, cpu = timed(client, path, headers, args.repeat)
            rows.append({"db": kind, "pending": pending, "request": label, "p50": p50, "p95": p95,
                         "items": count, "cpu": cpu})  # fmt: skip
            print(f"[{kind}] {label}: {p50:.1f} / {p95:.1f} ms, CPU {cpu:.1f} ms ({count} items)",
                  file=sys.stderr)
        app.extensions["sahakum_db"].dispose()
        return rows
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="--repeat 5")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 5
    if args.profile:
        import cProfile

        global PROFILER
        PROFILER = cProfile.Profile()
    if not args.pg and not args.sqlite:
        args.sqlite = True
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sahakum-dup-bench-") as tmp:
        if args.pg:
            url, name = ml.fresh_pg(args.pg)
            try:
                rows += run_database("postgresql", url, args, Path(tmp) / "pg")
            finally:
                ml.drop_pg(args.pg, name)
        if args.sqlite:
            rows += run_database("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args, Path(tmp) / "sqlite")
    command = "python bench/duplicates_api.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = ["# Duplicate queue API", "", f"`{command}`", "",
             "| database | pending pairs | request | p50 ms | p95 ms | CPU ms (p50) | items |",
             "|---|---:|---|---:|---:|---:|---:|"]
    lines += [f"| {r['db']} | {r['pending']:,} | {r['request']} | {r['p50']:.1f} | {r['p95']:.1f} "
              f"| {r['cpu']:.1f} | {r['items']} |" for r in rows]  # fmt: skip
    md = "\n".join(lines) + "\n"
    print(md)
    if PROFILER is not None:
        import pstats

        pstats.Stats(PROFILER, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a", encoding="utf-8") as fh:
        fh.write(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
