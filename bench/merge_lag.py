"""Benchmark: merge lag under an OpenRosa ingest burst, through `sahakum serve` (gunicorn).

    .venv/bin/python bench/merge_lag.py --sqlite
    .venv/bin/python bench/merge_lag.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/merge_lag.py --pg URL --sqlite --n 2000 --concurrency 16

For each database (a fresh PostgreSQL database, dropped afterwards, or a temporary SQLite
file), as bench/openrosa_ingest.py does: `sahakum db upgrade`, `forms publish`,
`villages load`, `collectors add`, then `sahakum serve` on 127.0.0.1. Before the server
starts, the generator's 70 workplaces (bench/linkage_quality.py) are created as open
workplaces. Then a burst of ``--n`` new submissions is POSTed at ``--concurrency``: half
member_intake (the linkage generator's records: new people, repeat registrations with
spelling variations, sisters, minors), half workplace_visit (visits to the listed
workplaces, filled by tests/support/instances.build_instance). All payloads are built before
the burst.

The default deployment is measured: `sahakum serve` stores and answers, and its merger
processes (``--mergers``, default serve's) merge, woken after each commit. ``--rate R`` sends
the submissions at a steady R per second instead of as fast as possible (e.g. ``--rate 100
--n 6000``: a minute of sustained intake). ``--sync-loop`` also runs ``sahakum sync run
--loop`` beside the server.

Merge lag = ``submissions.merged_at - submission_versions.received_at`` of the current
version (both stored by the server, same clock). The script waits (bounded) until every
submission is merged or failed, then reports p50/p95/max lag, when the last merge completed
relative to the end of the burst, and failures. Writes bench/out/merge_lag.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import linkage_quality as lq  # noqa: E402
from merge_latency import MEASURE_START, World, form_answers, make_intakes  # noqa: E402
from openrosa_ingest import HEADERS, SAHAKUM, drop_pg, free_port, fresh_pg, percentile  # noqa: E402

from server.db.models import WorkplaceStatus  # noqa: E402
from server.db.session import Database  # noqa: E402
from server.sync import cases  # noqa: E402
from tests.support.instances import build_instance  # noqa: E402
from tests.support.submissions import build_xml  # noqa: E402

OUT = BENCH / "out" / "merge_lag.md"
WAIT_LIMIT_S = 900  # never wait longer than this for the merges to finish
STALL_LIMIT_S = 120  # ... or this long without progress


def sahakum(env: dict[str, str], *args: str) -> str:
    return subprocess.run([SAHAKUM, *args], env=env, check=True, capture_output=True, text=True).stdout


def seed_workplaces(db_url: str, gen: lq.Generator) -> dict[str, uuid.UUID]:
    db = Database(db_url)
    try:
        with db.transaction() as s:
            return {
                w: cases.create_workplace(s, name_latin=f"Bench KTV {w}", type="karaoke",
                                          village_code="18010101", status=WorkplaceStatus.OPEN).id
                for w in gen.workplaces
            }  # fmt: skip
    finally:
        db.dispose()


def payloads(
    url: str, world: World, n: int, intake_share: float
) -> list[tuple[str, bytes]]:
    """(form, xml) for the burst, built up front so the client costs little during it."""
    intake_xform = requests.get(f"{url}/forms/member_intake.xml", headers=HEADERS, timeout=60).content
    visit_xform = requests.get(f"{url}/forms/workplace_visit.xml", headers=HEADERS, timeout=60).content
    rng = world.gen.rng
    n_intake = round(n * intake_share)
    out: list[tuple[str, bytes]] = []
    for _kind, x in make_intakes(world, n_intake):
        answers = form_answers(x, world.workplace_ids)
        out.append(("member_intake", build_xml(intake_xform, answers, instance_id=f"uuid:{uuid.uuid4()}")))
    templates: dict[str, bytes] = {}
    for w, wp_id in world.workplace_ids.items():
        templates[w] = build_instance(
            visit_xform,
            answers={"workplace_in_list": "yes", "workplace": str(wp_id),
                     "visit_date": "VISIT-DATE", "note": "bench"},
            instance_id="uuid:TEMPLATE",
        )  # fmt: skip
    for _ in range(n - n_intake):
        xml = templates[rng.choice(world.gen.workplaces)]
        day = (MEASURE_START + timedelta(days=rng.randrange(60))).isoformat()
        xml = xml.replace(b"VISIT-DATE", day.encode()).replace(
            b"uuid:TEMPLATE", f"uuid:{uuid.uuid4()}".encode()
        )
        out.append(("workplace_visit", xml))
    rng.shuffle(out)
    return out


def burst(
    url: str, items: list[tuple[str, bytes]], concurrency: int, rate: float | None = None
) -> dict[str, Any]:
    local = threading.local()
    t_start = time.perf_counter()
    numbered = list(enumerate(items))

    def one(numbered_item: tuple[int, tuple[str, bytes]]) -> tuple[int, float]:
        i, item = numbered_item
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        if rate:  # a steady rate: the i-th request leaves at i / rate seconds
            delay = t_start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        start = time.perf_counter()
        r = session.post(
            f"{url}/submission?deviceID=bench",
            files={"xml_submission_file": ("instance.xml", item[1], "text/xml")},
            headers=HEADERS,
            timeout=120,
        )
        return r.status_code, time.perf_counter() - start

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, numbered))
    wall = time.perf_counter() - t0
    latencies = [s for _, s in results]
    return {
        "started": started,
        "ended": datetime.now(UTC),
        "wall": wall,
        "per_s": len(items) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "non_201": sum(code != 201 for code, _ in results),
    }


STATE_SQL = text("SELECT state, count(*) FROM submissions GROUP BY state")
LAG_SQL = text(
    """
    SELECT f.xml_form_id, s.state, s.merged_at, v.received_at, s.merge_error
    FROM submissions s
    JOIN submission_versions v ON v.submission_id = s.id AND v.is_current
    JOIN forms f ON f.id = s.form_id
    """
)


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wait_for_merges(db_url: str, expected: int) -> float:
    """Poll until no submission is still `received` (bounded). Returns seconds waited."""
    engine = create_engine(db_url)
    t0 = time.perf_counter()
    last_pending, last_change = None, t0
    try:
        while True:
            with engine.connect() as conn:
                states = dict(conn.execute(STATE_SQL).all())
            total = sum(states.values())
            pending = states.get("received", 0) + max(0, expected - total)
            now = time.perf_counter()
            if pending == 0:
                return now - t0
            if pending != last_pending:
                last_pending, last_change = pending, now
            if now - t0 > WAIT_LIMIT_S or now - last_change > STALL_LIMIT_S:
                print(f"gave up waiting: {pending} not merged", file=sys.stderr)
                return now - t0
            time.sleep(0.25)
    finally:
        engine.dispose()


def collect(db_url: str) -> list[tuple[str, str, datetime | None, datetime, str | None]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [(f, st, _as_utc(m), _as_utc(r), e) for f, st, m, r, e in conn.execute(LAG_SQL).all()]
    finally:
        engine.dispose()


def run_database(kind: str, base_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="sahakum-lag-"))
    env = dict(os.environ, SAHAKUM_INSTANCE_DIR=str(tmp), SAHAKUM_LOG_LEVEL="WARNING")
    pg_name = None
    if base_url:
        db_url, pg_name = fresh_pg(base_url)
    else:
        db_url = f"sqlite:///{tmp / 'lag.sqlite3'}"
    env["SAHAKUM_DATABASE_URL"] = db_url
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sahakum(env, "db", "upgrade")
        sahakum(env, "forms", "publish")
        sahakum(env, "villages", "load")
        gen = lq.Generator(args.seed)
        world = World(gen, seed_workplaces(db_url, gen))
        # People already registered, so that repeat registrations and sisters have someone to
        # resemble (they are in the generator only: the database starts with no members).
        world.people = [gen.person(i) for i in range(200)]
        world.next_pid = 200
        out = sahakum(env, "collectors", "add", "BENCH01", "--role", "peer_educator",
                      "--communes", "180101 180102", "--base-url", f"http://127.0.0.1:{port}",
                      "--json")  # fmt: skip
        url = json.loads(out)["server_url"]
        server_log = open(tmp / "server.log", "wb")  # noqa: SIM115 (closed with the process)
        mergers = [] if args.mergers is None else ["--mergers", str(args.mergers)]
        procs.append(subprocess.Popen(
            [SAHAKUM, "serve", "--port", str(port), "--workers", str(args.workers),
             "--threads", str(args.threads), *mergers],
            env=env, stdout=server_log, stderr=server_log,
        ))  # fmt: skip
        if args.sync_loop:
            procs.append(subprocess.Popen(
                [SAHAKUM, "sync", "run", "--loop", "--interval", "1"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        for _ in range(100):
            try:
                if requests.head(f"{url}/submission", headers=HEADERS, timeout=1).status_code == 204:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        items = payloads(url, world, args.n, args.intake_share)
        # Warm-up (not counted): every worker imports, connects, reads the forms once.
        warm = payloads(url, world, 40, args.intake_share)
        burst(url, warm, args.concurrency)
        wait_for_merges(db_url, len(warm))
        b = burst(url, items, args.concurrency, args.rate)
        waited = wait_for_merges(db_url, len(warm) + len(items))
        rows = collect(db_url)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        if pg_name and base_url:
            drop_pg(base_url, pg_name)
    rows = [r for r in rows if r[3] >= b["started"]]
    merged = [r for r in rows if r[2] is not None and r[1] == "merged"]
    lags = [(m - rcv).total_seconds() for _f, _st, m, rcv, _e in merged]
    by_form: dict[str, list[float]] = {}
    for (f, _st, m, rcv, _e) in merged:
        by_form.setdefault(f, []).append((m - rcv).total_seconds())
    last = max((r[2] for r in merged), default=None)
    return {
        "db": kind,
        "n": len(items),
        "stored": len(rows),
        "burst": b,
        "merged": len(merged),
        "failed": sum(r[1] == "merge_failed" for r in rows),
        "unmerged": sum(r[1] == "received" for r in rows),
        "errors": Counter(f"{r[0]}: {r[4]}" for r in rows if r[1] == "merge_failed"),
        "p50": statistics.median(lags) if lags else float("nan"),
        "p95": percentile(lags, 0.95) if lags else float("nan"),
        "max": max(lags) if lags else float("nan"),
        "by_form": {f: (statistics.median(v), percentile(v, 0.95), max(v)) for f, v in by_form.items()},
        "after_burst": (last - b["ended"]).total_seconds() if last else float("nan"),
        "waited": waited,
        "log": tmp / "server.log",
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    mode = "merger processes" + (" + `sahakum sync run --loop`" if args.sync_loop else "")
    pace = f"{args.rate:g}/s steady" if args.rate else "a burst"
    mergers = "" if args.mergers is None else f" --mergers {args.mergers}"
    lines = [
        f"### Merge lag under {pace} intake (`sahakum serve --workers {args.workers} "
        f"--threads {args.threads}{mergers}`, {mode}; load {os.getloadavg()[0]:.1f})",
        "",
        f"`{command}`",
        "",
        "| database | submissions | concurrency | burst s | req/s | POST p50 ms | POST p95 ms | non-201 "
        "| merged | failed | not merged | lag p50 s | lag p95 s | lag max s | last merge after burst s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        b = r["burst"]
        lines.append(
            f"| {r['db']} | {r['n']} | {args.concurrency} | {b['wall']:.1f} | {b['per_s']:.0f} "
            f"| {b['p50_ms']:.0f} | {b['p95_ms']:.0f} | {b['non_201']} | {r['merged']} | {r['failed']} "
            f"| {r['unmerged']} | {r['p50']:.3f} | {r['p95']:.3f} | {r['max']:.2f} | {r['after_burst']:.2f} |"
        )
    lines += ["", "| database | form | lag p50 s | lag p95 s | lag max s |", "|---|---|---:|---:|---:|"]
    for r in results:
        for f, (p50, p95, mx) in sorted(r["by_form"].items()):
            lines.append(f"| {r['db']} | {f} | {p50:.3f} | {p95:.3f} | {mx:.2f} |")
    for r in results:
        for reason, count in sorted(r["errors"].items()):
            lines.append(f"\n- {r['db']}: {count} merge_failed, {reason}")
    lines += [
        "",
        "Lag = merged_at - received_at of the submission's current version (server clock). "
        "\"Last merge after burst\" = the latest merged_at minus the moment the client had its last "
        "reply. The client (16 threads) runs on the same 2 cores as the server and the database.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", "--database-url", dest="pg", default=None,
                        help="PostgreSQL server URL; a scratch database is created there and dropped")
    parser.add_argument("--sqlite", action="store_true", help="also (or only) run on a temporary SQLite file")
    parser.add_argument("--n", type=int, default=2000, help="submissions in the burst")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--intake-share", type=float, default=0.5, help="share of member_intake")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sync-loop", action="store_true", help="also run `sahakum sync run --loop`")
    parser.add_argument("--rate", type=float, default=None, help="submissions per second (default: burst)")
    parser.add_argument("--mergers", type=int, default=None, help="serve --mergers (default: serve's)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)  # fmt: skip
    if not args.pg and not args.sqlite:
        args.sqlite = True
    results = []
    if args.pg:
        results.append(run_database("postgresql", args.pg, args))
    if args.sqlite:
        results.append(run_database("sqlite", None, args))
    command = "python bench/merge_lag.py " + " ".join(argv if argv is not None else sys.argv[1:])
    md = report(results, args, command)
    print(md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
