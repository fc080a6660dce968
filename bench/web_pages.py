"""Benchmark: staff web pages with 100,000 submissions: server time (p50/p95) and page weight.

    .venv/bin/python bench/web_pages.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/web_pages.py --sqlite --size 20000 --n 100

Set-up (a fresh PostgreSQL database, dropped afterwards, or a temporary SQLite file): migrate,
publish the forms, load the gazetteer, load the demo data through the OpenRosa path
(`sahakum demo load`'s own code), then bulk-insert ``--size`` workplace_visit submissions (copies
of a demo visit's XML with new instanceIDs, each with its current version and its monitoring
visit, so the list has event dates and communes), spread over 12 months and 3 collectors.

Server time: each page is requested in-process through the Flask test client with a signed-in
case worker's cookie (WSGI app + database, no network), ``--n`` times after 10 warm-ups:
the submissions list (first page, page 200, filtered by form+commune+event dates) and a
submission detail for random submissions. When the web pages for submissions do not exist in
this checkout, the JSON API equivalents are timed instead and the table says so.

Page weight: bytes of each screen's HTML plus its stylesheets (no scripts are used), raw and
gzip-compressed, the Khmer font files excluded (cached once, listed separately).
Writes bench/out/web_pages.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from openrosa_ingest import drop_pg, fresh_pg, percentile  # noqa: E402

from server import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.models import (  # noqa: E402
    Collector,
    Form,
    StaffUser,
    Submission,
    SubmissionState,
    SubmissionVersion,
)
from server.db.models.cases import CandidatePair, Member, MonitoringVisit, Referral, Workplace  # noqa: E402

PASSWORD = "bench password 1234"
BATCH = 5000


def setup(url: str, tmp: Path) -> Any:
    from server.accounts.passwords import set_password
    from server.cli_demo import _send_all, _sign_ins
    from server.sync.villages import load_villages
    from server.xforms.publish import default_form_paths, publish_xlsform

    migrate.upgrade(url)
    settings = Settings(database_url=url, data_dir=tmp / "data", secret_key="bench-secret-key-0123456789",
                        base_url=None, max_submission_bytes=10_000_000, instance_dir=tmp / "instance")
    app = create_app(settings)
    db = app.extensions["sahakum_db"]
    with db.transaction() as s:
        load_villages(s)
        for path in default_form_paths():
            publish_xlsform(s, path, None)
    _send_all(app)
    _sign_ins(db)
    with db.transaction() as s:
        set_password(s, s.scalar(select(StaffUser).where(StaffUser.name == "demo-case")), PASSWORD)
    return app


def seed(app: Any, size: int) -> None:
    """`size` more workplace visits, as merged submissions, inserted in bulk."""
    db = app.extensions["sahakum_db"]
    with db.transaction() as s:
        template = s.scalar(
            select(SubmissionVersion).join(Form, Form.id == SubmissionVersion.form_id)
            .where(Form.xml_form_id == "workplace_visit").limit(1)
        )
        collectors = list(s.scalars(select(Collector.id).where(Collector.name.like("DEMO-PE%"))))
        workplaces = [tuple(row) for row in s.execute(select(Workplace.id, Workplace.commune_code))]
        form_id, fv_id = template.form_id, template.form_version_id
        xml, old_iid = template.xml, template.instance_id
    now = datetime.now(UTC)
    rng = random.Random(7)
    t0 = time.perf_counter()
    for start in range(0, size, BATCH):
        subs, versions, visits = [], [], []
        for i in range(start, min(size, start + BATCH)):
            sid, iid = uuid.uuid4(), f"uuid:{uuid.uuid4()}"
            body = xml.replace(old_iid.encode(), iid.encode())
            digest = hashlib.sha256(body).hexdigest()
            at = now - timedelta(minutes=5 * (size - i))
            workplace_id, commune = rng.choice(workplaces)
            visit_date = (at - timedelta(days=rng.randint(0, 2))).date()
            # The list columns the merge stamps on a submission (event date, commune, alert).
            subs.append({"id": sid, "form_id": form_id, "root_instance_id": iid,
                         "state": SubmissionState.MERGED, "created_at": at, "updated_at": at,
                         "merge_attempts": 1, "event_date": visit_date, "event_month": False,
                         "commune_code": commune, "has_alert": False})
            versions.append({"submission_id": sid, "form_id": form_id, "form_version_id": fv_id,
                             "instance_id": iid, "is_current": True, "xml": body, "xml_sha256": digest,
                             "c14n_sha256": digest, "submitted_by_id": rng.choice(collectors),
                             "collector_code": f"PE0{rng.randint(1, 3)}", "received_at": at})
            visits.append({"id": uuid.uuid4(), "visit_id": iid, "submission_id": sid,
                           "workplace_id": workplace_id, "visit_date": visit_date})
        with db.transaction() as s:
            s.execute(insert(Submission), subs)
            s.execute(insert(SubmissionVersion), versions)
            s.execute(insert(MonitoringVisit), visits)
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"seeded {size} submissions in {time.perf_counter() - t0:.0f} s", flush=True)


def signed_in_client(app: Any) -> Any:
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post("/signin", data={"username": "demo-case", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.status_code
    return client


def time_get(client: Any, urls: list[str], n: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    for url in urls[:10]:
        client.get(url, headers=headers)
    times, cpu = [], []
    for i in range(n):
        url = urls[i % len(urls)]
        t, c = time.perf_counter(), time.process_time()
        r = client.get(url, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    # CPU time of the app process: what the page costs in Python, whatever else the machine runs
    # (the wall time also includes waiting for PostgreSQL and for a core).
    return {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95), "max": max(times),
            "cpu50": percentile(cpu, 0.5)}


def has_page(app: Any, endpoint: str) -> bool:
    return endpoint in app.view_functions


def server_times(app: Any, n: int) -> list[tuple[str, dict[str, float]]]:
    db = app.extensions["sahakum_db"]
    with db.transaction() as s:
        iids = list(s.scalars(select(Submission.root_instance_id).order_by(Submission.created_at.desc())
                              .limit(5000)))
    random.Random(3).shuffle(iids)
    today = date.today()
    window = f"event_from={(today - timedelta(days=60)).isoformat()}&event_to={today.isoformat()}"
    client, headers, prefix, note = signed_in_client(app), None, "", "web page"
    if not has_page(app, "web.submissions"):
        from server.accounts.staff import create_staff
        from server.db.models import StaffRole

        with db.transaction() as s:
            _user, token = create_staff(s, "bench-api", StaffRole.CASE)
        headers, prefix, note = {"Authorization": f"Bearer {token}"}, "/api/v1", "JSON API (no web page yet)"
    list_url = f"{prefix}/submissions"
    return [
        (f"submissions list, page 1 [{note}]", time_get(client, [list_url], n, headers)),
        (f"submissions list, page 200 [{note}]", time_get(client, [f"{list_url}?page=200"], n, headers)),
        (f"submissions list, form+commune+dates [{note}]",
         time_get(client, [f"{list_url}?form=workplace_visit&commune=180101&{window}"], n, headers)),
        (f"submission detail, random [{note}]",
         time_get(client, [f"{prefix}/submissions/{i}" for i in iids], n, headers)),
    ]


def screens(app: Any) -> list[tuple[str, str]]:
    db = app.extensions["sahakum_db"]
    with db.transaction() as s:
        iid = s.scalar(select(Submission.root_instance_id).limit(1))
        pair = s.scalar(select(CandidatePair.id).limit(1))
        member = s.scalar(select(Member.id).limit(1))
        referral = s.scalar(select(Referral.id).where(Referral.restricted.is_(False)).limit(1))
    out = [("sign-in", "/"), ("work queue", "/"), ("duplicates", "/duplicates"),
           ("duplicate pair", f"/duplicates/{pair}"), ("member", f"/members/{member}")]
    optional = [("web.submissions", "submissions", "/submissions"),
                ("web.submission", "submission detail", f"/submissions/{iid}"),
                ("web.referrals", "referrals", "/referrals"),
                ("web.referral", "referral detail", f"/referrals/{referral}")]
    out += [(name, url) for endpoint, name, url in optional if has_page(app, endpoint)]
    return out


def page_weights(app: Any) -> list[tuple[str, int, int]]:
    rows = []
    anonymous, client = app.test_client(), signed_in_client(app)
    css_cache: dict[str, bytes] = {}
    for name, url in screens(app):
        r = (anonymous if name == "sign-in" else client).get(url)
        assert r.status_code == 200, (url, r.status_code)
        html = r.data
        total, packed = len(html), len(gzip.compress(html))
        for href in re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html):
            key = href.decode()
            css_cache.setdefault(key, client.get(key).data)
            total += len(css_cache[key])
            packed += len(gzip.compress(css_cache[key]))
        rows.append((name, total, packed))
    return rows


def font_bytes() -> int:
    fonts = ROOT / "server" / "web" / "static" / "fonts"
    return sum(p.stat().st_size for p in fonts.glob("*.woff2"))


def report(kind: str, size: int, times: list[tuple[str, dict[str, float]]],
           weights: list[tuple[str, int, int]]) -> str:
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    lines = [f"## Staff web pages, {kind}, {size:,} seeded submissions", "",
             f"Machine load average during the run: {' '.join(load)} (CPU cores: {os.cpu_count()})", "",
             "| request | p50 ms | p95 ms | max ms | app CPU p50 ms |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {t['p50']:.1f} | {t['p95']:.1f} | {t['max']:.1f} | {t['cpu50']:.1f} |"
              for name, t in times]
    lines += ["", "| screen | HTML+CSS bytes | gzip bytes |", "|---|---:|---:|"]
    lines += [f"| {name} | {raw:,} | {packed:,} |" for name, raw, packed in weights]
    lines += ["", f"Khmer font (two woff2 files, cached a year, excluded above): {font_bytes():,} bytes", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    if not args.pg and not args.sqlite:
        parser.error("give --pg URL and/or --sqlite")
    out = []
    targets = ([("PostgreSQL", args.pg)] if args.pg else []) + ([("SQLite", None)] if args.sqlite else [])
    for kind, base in targets:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            url, name = fresh_pg(base) if base else (f"sqlite:///{tmp / 'bench.sqlite3'}", None)
            try:
                app = setup(url, tmp)
                seed(app, args.size)
                text = report(kind, args.size, server_times(app, args.n), page_weights(app))
                print(text, flush=True)
                out.append(text)
                app.extensions["sahakum_db"].dispose()
            finally:
                if name:
                    drop_pg(base, name)
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "web_pages.md").write_text("\n".join(out))


if __name__ == "__main__":
    main()
