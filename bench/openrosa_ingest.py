"""Benchmark: OpenRosa submissions through real HTTP to `sahakum serve` (gunicorn gthread).

    .venv/bin/python bench/openrosa_ingest.py                       # SQLite
    .venv/bin/python bench/openrosa_ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Measures new workplace_visit submissions/s and p50/p95 latency at concurrency 1, 4 and 16
(10,000 submissions in all, the database growing), identical resends/s, and the peak RSS of the
server processes while one 50 MB attachment is received. Writes bench/out/openrosa_<db>.md.

`--merge after-reply` (default, the default deployment) merges each submission in the web
process after its 201, so intake shares the CPU with merging. `--merge separate` measures the
other documented deployment: `sahakum serve --no-merge-after-reply` beside one
`sahakum sync run --loop` process; the report then gives the merge backlog left at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.instances import build_instance  # noqa: E402

SAHAKUM = str(ROOT / ".venv" / "bin" / "sahakum")
HEADERS = {"X-OpenRosa-Version": "1.0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_level(url: str, xml_template: bytes, old_id: bytes, n: int, concurrency: int) -> dict:
    local = threading.local()

    def one(_: int) -> float:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        xml = xml_template.replace(old_id, f"uuid:{uuid.uuid4()}".encode())
        start = time.perf_counter()
        r = session.post(
            f"{url}/submission?deviceID=bench",
            files={"xml_submission_file": ("instance.xml", xml, "text/xml")},
            headers=HEADERS,
            timeout=60,
        )
        elapsed = time.perf_counter() - start
        if r.status_code != 201:
            raise RuntimeError(f"status {r.status_code}: {r.text[:200]}")
        return elapsed

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, range(n)))
    wall = time.perf_counter() - t0
    return {
        "n": n,
        "concurrency": concurrency,
        "per_s": n / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def run_resends(url: str, xml: bytes, n: int, concurrency: int) -> dict:
    local = threading.local()

    def one(_: int) -> float:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        start = time.perf_counter()
        r = session.post(
            f"{url}/submission?deviceID=bench",
            files={"xml_submission_file": ("instance.xml", xml, "text/xml")},
            headers=HEADERS,
            timeout=60,
        )
        if r.status_code != 201:
            raise RuntimeError(f"status {r.status_code}")
        return time.perf_counter() - start

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, range(n)))
    wall = time.perf_counter() - t0
    return {
        "n": n,
        "concurrency": concurrency,
        "per_s": n / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def pending_merges(env: dict[str, str]) -> int:
    """Submissions stored but not merged yet (separate-merger mode)."""
    from server.config import load_settings

    engine = create_engine(load_settings(env).database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM submissions WHERE state = 'received'")).scalar()
                or 0
            )
    finally:
        engine.dispose()


def fresh_pg(base: str) -> tuple[str, str]:
    url = make_url(base)
    name = f"sahakum_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def drop_pg(base: str, name: str) -> None:
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default SQLite)")
    parser.add_argument("--total", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--resends", type=int, default=2_000)
    parser.add_argument("--attachment-mb", type=int, default=50)
    parser.add_argument("--merge", choices=["after-reply", "separate"], default="after-reply")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sahakum-bench-"))
    env = dict(os.environ, SAHAKUM_INSTANCE_DIR=str(tmp), SAHAKUM_LOG_LEVEL="WARNING")
    pg_name = None
    if args.database_url:
        db_url, pg_name = fresh_pg(args.database_url)
        env["SAHAKUM_DATABASE_URL"] = db_url
    kind = "postgresql" if args.database_url else "sqlite"
    port = free_port()
    server = None
    merger = None
    backlog = None
    try:
        subprocess.run([SAHAKUM, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([SAHAKUM, "forms", "publish"], env=env, check=True, capture_output=True)
        out = subprocess.run(
            [
                SAHAKUM,
                "collectors",
                "add",
                "BENCH01",
                "--role",
                "peer_educator",
                "--base-url",
                f"http://127.0.0.1:{port}",
                "--json",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        url = json.loads(out.stdout)["server_url"]
        server = subprocess.Popen(
            [
                SAHAKUM,
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                *(["--no-merge-after-reply"] if args.merge == "separate" else []),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if args.merge == "separate":
            merger = subprocess.Popen(
                [SAHAKUM, "sync", "run", "--loop", "--interval", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for _ in range(100):
            try:
                if requests.head(f"{url}/submission", headers=HEADERS, timeout=1).status_code == 204:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        listing = requests.get(f"{url}/formList", headers=HEADERS, timeout=60).text
        form_url = f"{url}/forms/workplace_visit.xml"
        assert "workplace_visit" in listing
        xform = requests.get(form_url, headers=HEADERS, timeout=60).content
        xml = build_instance(xform, answers={"note": "bench"}, instance_id="uuid:TEMPLATE")
        old_id = b"uuid:TEMPLATE"

        levels = []
        split = {
            1: args.total // 5,
            4: args.total * 3 // 10,
            16: args.total - args.total // 5 - args.total * 3 // 10,
        }
        run_level(url, xml, old_id, 50, 4)  # warm-up (not counted)
        for concurrency, n in split.items():
            levels.append(run_level(url, xml, old_id, n, concurrency))
        if merger is not None:
            backlog = pending_merges(env)
        resend_xml = xml.replace(old_id, b"uuid:77777777-7777-4777-8777-777777777777")
        run_level(url, resend_xml, b"uuid:88888888-8888-4888-8888-888888888888", 1, 1)
        resends = run_resends(url, resend_xml, args.resends, 16)

        # Peak RSS while one big attachment is received (streamed to disk, never held in memory).
        workers = worker_pids(server.pid)
        before = max(vm_hwm(p) for p in workers)
        big_xml = xml.replace(old_id, f"uuid:{uuid.uuid4()}".encode()).replace(
            b"<note>bench</note>", b"<note>big.bin</note>"
        )
        size = args.attachment_mb * 1024 * 1024
        with open(tmp / "big.bin", "wb") as fh:
            fh.truncate(size)
        with open(tmp / "big.bin", "rb") as fh:
            t0 = time.perf_counter()
            r = requests.post(
                f"{url}/submission",
                files={
                    "xml_submission_file": ("instance.xml", big_xml, "text/xml"),
                    "big.bin": ("big.bin", fh, "application/octet-stream"),
                },
                headers=HEADERS,
                timeout=600,
            )
            big_s = time.perf_counter() - t0
        assert r.status_code == 201, r.text
        after = max(vm_hwm(p) for p in worker_pids(server.pid))
    finally:
        if merger is not None:
            merger.send_signal(signal.SIGTERM)
            merger.wait(timeout=60)
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if pg_name:
            drop_pg(args.database_url, pg_name)

    flags = " --no-merge-after-reply` + `sahakum sync run --loop" if args.merge == "separate" else ""
    lines = [
        f"### OpenRosa ingest, {kind} (`sahakum serve --workers {args.workers} "
        f"--threads {args.threads}{flags}`)",
        "",
        "| test | requests | concurrency | req/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for level in levels:
        lines.append(
            f"| new workplace_visit | {level['n']} | {level['concurrency']} | {level['per_s']:.0f} "
            f"| {level['p50_ms']:.1f} | {level['p95_ms']:.1f} |"
        )
    lines.append(
        f"| identical resend | {resends['n']} | {resends['concurrency']} | {resends['per_s']:.0f} "
        f"| {resends['p50_ms']:.1f} | {resends['p95_ms']:.1f} |"
    )
    lines += [
        "",
        f"{args.attachment_mb} MB attachment: received in {big_s:.1f} s; peak worker RSS "
        f"{before / 1024:.0f} MB before, {after / 1024:.0f} MB after.",
        "",
    ]
    if backlog is not None:
        lines += [
            f"Merge backlog when the new submissions were all received: {backlog} of "
            f"{args.total + 50} not merged yet (the merger keeps working through them).",
            "",
        ]
    report = "\n".join(lines)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"openrosa_{kind}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
