"""Intake at the ceiling of the stack: wrk (one thread, Lua) against `sahakum serve`.

    .venv/bin/python bench/wrk_intake.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/wrk_intake.py                      # SQLite

For each repeat, interleaved: the bare endpoint (bench/bare_app.py: gunicorn gthread + Flask
answering 201, same workers and threads), then new workplace_visit submissions (a fresh
instanceID per request) and identical resends, each at concurrency 1, 4 and 16 for `--duration`
seconds. Reports the median over repeats of req/s and p50/p95 latency, and req/s as a ratio to
the bare endpoint at the same concurrency (comparable across machines). Every response must be
201; the database is checked to hold exactly one submission per 201 to a new instanceID.
Merger processes run as in the default deployment (`--mergers`), so intake shares the machine
with merging as it would in production; `--mergers 0` measures storing alone.
"""

from __future__ import annotations

import argparse
import json
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
from tests.support.instances import build_instance  # noqa: E402

LUA = ROOT / "bench" / "lua" / "submit.lua"
MARK = b"uuid:SPLIT-HERE"


def visit_answers() -> dict[str, str]:
    """A visit as a peer educator files it: a workplace not yet on the list, the usual answers."""
    return {
        "start": "2026-11-10T19:00:00.000+07:00",
        "collector": "BENCH01",
        "visit_date": "2026-11-10",
        "workplace_in_list": "no",
        "visit_type": "routine",
        "access": "inside_freely",
        "manager_attitude": "neutral",
        "n_workers_est": "12",
        "n_met": "5",
        "n_members_present": "1",
        "u18_suspected": "no",
        "fl_seen": "none",
        "locked_in": "no",
        "forced_drinking": "no",
        "shift_hours": "8",
        "days_off": "3_4",
        "pay_type": "salary",
        "pe_safety": "safe",
    }


def lua_bytes(data: bytes) -> str:
    """A Lua string literal of exactly these bytes (long brackets would turn CRLF into LF)."""
    return '"' + "".join(
        chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in data
    ) + '"'


def write_body(xml: bytes, submit_path: str, fresh: bool, run_tag: str) -> None:
    """The Lua side assembles each body as Collect's OkHttp does: a new random boundary per
    request (so a server cannot cache per-boundary work), the XML part, the closing boundary."""
    head = (
        b"\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; "
        b"filename=\"Workplace visit_2026-11-10.xml\"\r\nContent-Type: text/xml\r\n\r\n"
    )
    prefix, suffix = xml.split(MARK)
    lines = [
        f"SUBMIT_PATH = {json.dumps(submit_path)}",
        f"RUN_TAG = {json.dumps(run_tag)}",
        f"FRESH = {'true' if fresh else 'false'}",
        f"PART_HEAD = {lua_bytes(head)}",
        f"XML_PREFIX = {lua_bytes(prefix)}",
        f"XML_SUFFIX = {lua_bytes(suffix)}",
    ]
    (LUA.parent / "body.lua").write_text("\n".join(lines) + "\n")


def wrk(url: str, concurrency: int, duration: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA), url],
        capture_output=True, text=True, check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line[len("RESULT "):])
    return {
        "requests": raw["requests"],
        "per_s": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "not_201": raw["not_201"],
        "socket_errors": raw["socket_errors"],
    }


def wait_up(url: str, path: str = "/submission") -> None:
    for _ in range(300):
        try:
            requests.head(f"{url}{path}", headers=HEADERS, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def count_submissions(env: dict[str, str]) -> int:
    from sqlalchemy import create_engine, text

    from server.config import load_settings

    engine = create_engine(load_settings(env).database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM submissions")).scalar() or 0)
    finally:
        engine.dispose()


def setup_sahakum(env: dict[str, str], port: int) -> str:
    subprocess.run([SAHAKUM, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([SAHAKUM, "forms", "publish"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [SAHAKUM, "collectors", "add", "BENCH01", "--role", "peer_educator", "--communes", "180101",
         "--base-url", f"http://127.0.0.1:{port}", "--json"],
        env=env, check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)["server_url"]


def median_row(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in ("per_s", "p50_ms", "p95_ms", "p99_ms")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default SQLite)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--mergers", type=int, default=None, help="default: serve's default")
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="sahakum-wrk-"))
    env = dict(os.environ, SAHAKUM_INSTANCE_DIR=str(tmp), SAHAKUM_LOG_LEVEL="WARNING")
    pg_name = None
    if args.database_url:
        db_url, pg_name = fresh_pg(args.database_url)
        env["SAHAKUM_DATABASE_URL"] = db_url
    kind = "postgresql" if args.database_url else "sqlite"
    port, bare_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    fresh_201 = 0
    stored = 0
    try:
        url = setup_sahakum(env, port)
        serve = [SAHAKUM, "serve", "--port", str(port), "--workers", str(args.workers),
                 "--threads", str(args.threads)]
        if args.mergers is not None:
            serve += ["--mergers", str(args.mergers)]
        procs.append(subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-k", "gthread", "-w", str(args.workers),
             "--threads", str(args.threads), "-b", f"127.0.0.1:{bare_port}", "--chdir", str(ROOT),
             "bench.bare_app:app"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        wait_up(url)
        bare_url = f"http://127.0.0.1:{bare_port}/v1/key/bare"
        wait_up(bare_url)
        xform = requests.get(f"{url}/forms/workplace_visit.xml", headers=HEADERS, timeout=60).content
        xml = build_instance(xform, answers=visit_answers(), instance_id=MARK.decode())
        submit_path = url.split(f":{port}", 1)[1] + "/submission"
        before = count_submissions(env)
        # The resend target exists before the resend phase (its first POST is a new one).
        write_body(xml, submit_path, fresh=False, run_tag="0000f1ed")
        wrk(f"http://127.0.0.1:{port}", 1, 1)
        fresh_201 -= 1  # that first POST is counted below as a stored submission
        for rep in range(args.repeats):
            for concurrency in levels:
                write_body(xml, "/v1/key/bare/submission", fresh=True, run_tag=uuid.uuid4().hex[:8])
                results.setdefault(("bare", concurrency), []).append(
                    wrk(f"http://127.0.0.1:{bare_port}", concurrency, args.duration))
                write_body(xml, submit_path, fresh=True, run_tag=uuid.uuid4().hex[:8])
                run = wrk(f"http://127.0.0.1:{port}", concurrency, args.duration)
                fresh_201 += run["requests"] - run["not_201"]
                results.setdefault(("new", concurrency), []).append(run)
                write_body(xml, submit_path, fresh=False, run_tag="0000f1ed")
                results.setdefault(("resend", concurrency), []).append(
                    wrk(f"http://127.0.0.1:{port}", concurrency, args.duration))
                print(f"repeat {rep + 1} c={concurrency}: " + ", ".join(
                    f"{name} {results[(name, concurrency)][-1]['per_s']:.0f}/s"
                    for name in ("bare", "new", "resend")), flush=True)
        stored = count_submissions(env) - before
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        if pg_name:
            drop_pg(args.database_url, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)

    bad = sum(r["not_201"] + r["socket_errors"] for runs in results.values() for r in runs)
    lines = [
        f"### wrk intake, {kind}: `sahakum serve --workers {args.workers} --threads {args.threads}"
        f"{'' if args.mergers is None else f' --mergers {args.mergers}'}`, "
        f"median of {args.repeats} x {args.duration} s, load before: {os.getloadavg()[0]:.2f}",
        "",
        "| test | concurrency | req/s | vs bare | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("bare", "new", "resend"):
        for concurrency in levels:
            row = median_row(results[(name, concurrency)])
            ratio = row["per_s"] / median_row(results[("bare", concurrency)])["per_s"]
            lines.append(
                f"| {name} | {concurrency} | {row['per_s']:.0f} | {ratio:.2f} | {row['p50_ms']:.1f} "
                f"| {row['p95_ms']:.1f} | {row['p99_ms']:.1f} |"
            )
    lines += ["", f"non-201 or socket errors: {bad}; new submissions answered 201: {fresh_201}, "
              f"stored: {stored}", ""]
    report = "\n".join(lines)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"wrk_intake_{kind}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
