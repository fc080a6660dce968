"""Entity lists at size, conditional requests, and command start time.

    .venv/bin/python bench/lists_and_commands.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/lists_and_commands.py                 # SQLite
    .venv/bin/python bench/lists_and_commands.py --quick         # 3 repeats instead of 7

Seeds `--rows` workplaces (each with a sign name) in one commune, serves them with
`sahakum serve --mergers 0`, and times through HTTP, as Collect asks: the workplaces.csv entity
list in full (200, streamed from the body stored for the list version), the first download after
the case data changed (the body built once and stored), the same request with a matching
If-None-Match (304, answered from the list version without building the list), and the form's
manifest (which carries the list hashes). Then times `sahakum --help` and two other commands
that touch no database. Medians of wall time, and the server's CPU time (utime + stime of the
gunicorn processes), which the load of a shared machine does not inflate; the build alone is
also timed in this process with time.process_time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.openrosa_ingest import HEADERS, SAHAKUM, drop_pg, free_port, fresh_pg  # noqa: E402
from bench.wrk_intake import cpu_seconds, setup_sahakum, wait_up, web_pids  # noqa: E402


def seed_workplaces(env: dict[str, str], rows: int) -> None:
    from sqlalchemy import insert

    from server.config import load_settings
    from server.db.models import Workplace, WorkplaceName, utcnow
    from server.db.session import Database

    db = Database(load_settings(env).database_url)
    now = utcnow()
    batch = 5000
    with db.engine.begin() as conn:
        for start in range(0, rows, batch):
            ids = [uuid.uuid4() for _ in range(start, min(rows, start + batch))]
            conn.execute(insert(Workplace.__table__), [
                {"id": wid, "workplace_code": f"W{start + i:07d}", "type": "karaoke",
                 "village_code": "18010101", "commune_code": "180101", "status": "open",
                 "version": 1, "workers_est": 12, "created_at": now, "updated_at": now}
                for i, wid in enumerate(ids)
            ])
            conn.execute(insert(WorkplaceName.__table__), [
                {"workplace_id": wid, "name_latin": f"Karaoke {start + i}", "name_km": "ខារ៉ាអូខេ",
                 "is_alias": False}
                for i, wid in enumerate(ids)
            ])
    # What autovacuum would do after such a load: planner statistics (else PostgreSQL plans
    # for an empty table: 100,000 nested index lookups instead of one hash join).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def bump_list_version(env: dict[str, str]) -> None:
    """What any committed change to members or workplaces does (the triggers of migration 0007)."""
    from server.config import load_settings
    from server.db.session import Database

    db = Database(load_settings(env).database_url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE list_versions SET version = version + 1 WHERE name = 'cases'")
    db.dispose()


def build_cpu(env: dict[str, str], n: int) -> tuple[float, float]:
    """Median wall and CPU ms of building the collector's workplaces.csv in this process."""
    from sqlalchemy import select

    from server.config import load_settings
    from server.db.models import Collector
    from server.db.session import Database
    from server.sync.lists import build_list

    db = Database(load_settings(env).database_url)
    walls, cpus = [], []
    for _ in range(n):
        with db.session() as s:
            collector = s.scalar(select(Collector).where(Collector.name == "BENCH01"))
            w0, c0 = time.perf_counter(), time.process_time()
            build_list(s, collector, "workplaces.csv")
            walls.append((time.perf_counter() - w0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
    db.dispose()
    return statistics.median(walls), statistics.median(cpus)


def timed(fn: object, n: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def command_times(env: dict[str, str], n: int) -> list[tuple[str, float]]:
    out = []
    for args in (["--help"], ["sync", "--help"], ["forms", "state", "--help"]):
        def run(a: list[str] = args) -> object:
            return subprocess.run([SAHAKUM, *a], env=env, capture_output=True, check=True)

        ms, _ = timed(run, n)
        out.append((" ".join(["sahakum", *args]), ms))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default SQLite)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 3
    tmp = Path(tempfile.mkdtemp(prefix="sahakum-lists-"))
    env = dict(os.environ, SAHAKUM_INSTANCE_DIR=str(tmp), SAHAKUM_LOG_LEVEL="WARNING")
    pg_name = None
    if args.database_url:
        db_url, pg_name = fresh_pg(args.database_url)
        env["SAHAKUM_DATABASE_URL"] = db_url
    kind = "postgresql" if args.database_url else "sqlite"
    port = free_port()
    server = None
    try:
        url = setup_sahakum(env, port)
        seed_workplaces(env, args.rows)
        server = subprocess.Popen(
            [SAHAKUM, "serve", "--port", str(port), "--workers", "2", "--mergers", "0"],
            env=env, stdout=subprocess.DEVNULL,
        )
        wait_up(url)
        session = requests.Session()
        list_url = f"{url}/forms/workplace_visit/attachments/workplaces.csv"
        manifest_url = f"{url}/forms/workplace_visit/manifest"
        session.get(list_url, headers=HEADERS, timeout=120)  # warm-up

        def full() -> requests.Response:
            r = session.get(list_url, headers=HEADERS, timeout=120)
            assert r.status_code == 200
            return r

        web = web_pids(server.pid)
        cpu0 = cpu_seconds(web)
        full_ms, response = timed(full, args.repeats)
        full_cpu = (cpu_seconds(web) - cpu0) * 1000 / args.repeats

        lines_served = response.content.count(b"\n") - 1  # type: ignore[attr-defined]
        etag = response.headers["ETag"]  # type: ignore[attr-defined]

        def cached() -> None:
            r = session.get(list_url, headers={**HEADERS, "If-None-Match": etag}, timeout=60)
            assert r.status_code == 304, r.status_code

        cpu0 = cpu_seconds(web)
        cached_ms, _ = timed(cached, args.repeats * 10)
        cached_cpu = (cpu_seconds(web) - cpu0) * 1000 / (args.repeats * 10)
        manifest_ms, _ = timed(
            lambda: session.get(manifest_url, headers=HEADERS, timeout=60), args.repeats * 3
        )

        def after_change() -> requests.Response:
            bump_list_version(env)
            return full()

        cpu0 = cpu_seconds(web)
        changed_ms, _ = timed(after_change, args.repeats)
        changed_cpu = (cpu_seconds(web) - cpu0) * 1000 / args.repeats
        build_ms, build_cpu_ms = build_cpu(env, args.repeats)
        commands = command_times(env, args.repeats)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        if pg_name:
            drop_pg(args.database_url, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        f"### Entity lists and commands, {kind} ({args.rows:,} workplaces in one commune; "
        f"median of {args.repeats} or more; load {os.getloadavg()[0]:.2f})",
        "",
        "| request | median ms | server CPU ms (mean) |",
        "|---|---:|---:|",
        f"| GET workplaces.csv, {lines_served:,} rows, 200 (stored body) | {full_ms:.0f} "
        f"| {full_cpu:.0f} |",
        f"| same, first download after a change (built and stored) | {changed_ms:.0f} "
        f"| {changed_cpu:.0f} |",
        f"| build alone, in process (CPU ms: time.process_time) | {build_ms:.0f} "
        f"| {build_cpu_ms:.0f} |",
        f"| same with matching If-None-Match, 304 | {cached_ms:.1f} | {cached_cpu:.1f} |",
        f"| GET manifest (carries the list hashes) | {manifest_ms:.1f} | |",
        *(f"| `{name}` (process start to exit) | {ms:.0f} | |" for name, ms in commands),
        "",
    ]
    report = "\n".join(lines)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"lists_{kind}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
