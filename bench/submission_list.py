"""Benchmark: the staff submission list (casework.listing) with 100,000 submissions.

    .venv/bin/python bench/submission_list.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/submission_list.py --sqlite [--n 100000] [--repeat 30]

Seeds, with Core executemany (no merge): 200 workplaces in 10 communes, N workplace_visit
submissions (one version each, 2/3 of them with a monitoring visit dated over a year), N/6
village_data submissions with a village report, about 5% with an active referral source (1 in 10
of those child protection), then times ``list_submissions`` (one page of 50 plus the capped
count, in one transaction, as the API does) for typical filters, for the case role, and
``submission_feed`` preparation is not included. Prints p50/p95 per filter and, on PostgreSQL,
the plan of the slowest one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from openrosa_ingest import drop_pg, fresh_pg, percentile  # noqa: E402

from server.casework.listing import Page, SubmissionFilter, list_submissions  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.models import (  # noqa: E402
    Collector,
    CollectorRole,
    Form,
    FormVersion,
    MonitoringVisit,
    Referral,
    ReferralSource,
    StaffRole,
    Submission,
    SubmissionVersion,
    VillageReport,
    Workplace,
)
from server.db.session import Database  # noqa: E402

COMMUNES = [f"1801{i:02d}" for i in range(1, 11)]


def seed(db: Database, n: int, rng: random.Random) -> None:
    t0 = time.perf_counter()
    with db.transaction() as s:
        forms = []
        for fid in ("workplace_visit", "village_data"):
            form = Form(xml_form_id=fid, title=fid, roles="peer_educator")
            s.add(form)
            s.flush()
            s.add(FormVersion(form_id=form.id, version="1", title=fid, xml=b"<h/>", md5="0" * 32,
                              source_sha256="0" * 64))
            forms.append(form.id)
        s.flush()
        fvs = dict(s.execute(text("select form_id, id from form_versions")).all())
        collectors = []
        for i in range(25):
            c = Collector(name=f"PE{i:02d}", role=CollectorRole.PEER_EDUCATOR, token_hash=uuid.uuid4().hex)
            s.add(c)
            collectors.append(c)
        s.flush()
        wps = [{"id": uuid.uuid4(), "workplace_code": f"W{i:05d}", "commune_code": COMMUNES[i % 10],
                "village_code": COMMUNES[i % 10] + "01", "version": 1} for i in range(200)]
        s.execute(insert(Workplace), wps)
        base = datetime(2025, 12, 1, tzinfo=UTC)
        subs, versions, visits, reports, sources = [], [], [], [], []
        n_village = n // 6
        for i in range(n + n_village):
            sid = uuid.uuid4()
            village = i >= n
            fid = forms[1] if village else forms[0]
            iid = f"uuid:{uuid.uuid4()}"
            at = base + timedelta(seconds=i * 300)
            subs.append({"id": sid, "form_id": fid, "root_instance_id": iid, "state": "merged",
                         "event_date": None, "event_month": False, "commune_code": None, "has_alert": False,
                         "review_state": rng.choice(["received", "received", "approved", "edited"]),
                         "created_at": at, "updated_at": at, "merge_attempts": 1})
            c = rng.choice(collectors)
            versions.append({"submission_id": sid, "form_id": fid, "form_version_id": fvs[fid],
                             "instance_id": iid, "is_current": True, "xml": b"<data/>",
                             "xml_sha256": "0" * 64, "c14n_sha256": "0" * 64, "encrypted": False,
                             "submitted_by_id": c.id, "collector_code": c.name, "received_at": at})
            event = (at - timedelta(days=rng.randint(0, 20))).date()
            if village:
                reports.append({"id": uuid.uuid4(), "submission_id": sid, "village_code": "18010101",
                                "commune_code": rng.choice(COMMUNES), "period_ym": f"{event:%Y-%m}",
                                "status": "superseded", "destinations": []})
                # What the merge stores on the submission for the list (sync.merge.list_columns).
                subs[-1].update(event_date=event.replace(day=1), event_month=True,
                               commune_code=reports[-1]["commune_code"])
            elif i % 3:
                wp = rng.choice(wps)
                visits.append({"id": uuid.uuid4(), "visit_id": iid, "submission_id": sid,
                               "workplace_id": wp["id"], "visit_date": event, "indicators": [],
                               "activities": [], "triggers": [], "details": {}})
                subs[-1].update(event_date=event, commune_code=wp["commune_code"])
            if rng.random() < 0.05:
                sources.append(sid)
                subs[-1]["has_alert"] = True
        s.execute(insert(Submission), subs)
        s.execute(insert(SubmissionVersion), versions)
        s.execute(insert(MonitoringVisit), visits)
        s.execute(insert(VillageReport), reports)
        refs, srcs = [], []
        for k, sid in enumerate(sources):
            rid = uuid.uuid4()
            child = k % 10 == 0
            refs.append({"id": rid, "case_code": f"C{k:06d}", "category": "child_protection" if child
                         else "forced_labour", "source": "visit", "status": "new", "priority": "urgent",
                         "restricted": child, "triggers": [], "person_descriptor": {}, "row_version": 1})
            srcs.append({"referral_id": rid, "submission_id": sid, "alert_key": "x", "triggers": [],
                         "active": True})
        s.execute(insert(Referral), refs)
        s.execute(insert(ReferralSource), srcs)
    # Statistics as autovacuum would have them (ANALYZE in autocommit: its results are kept).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    print(f"seeded {n + n // 6} submissions in {time.perf_counter() - t0:.1f} s", flush=True)


CASES = {
    "no filter, page 1": (SubmissionFilter(), 0),
    "no filter, page 200": (SubmissionFilter(), 199 * 50),
    "form + review state": (SubmissionFilter(form_id="workplace_visit", review_state="received"), 0),
    "collector": (SubmissionFilter(collector="PE07"), 0),
    "commune": (SubmissionFilter(commune="180103"), 0),
    "event date, one month": (SubmissionFilter(event_from=date(2026, 3, 1), event_to=date(2026, 3, 31)), 0),
    "has alert": (SubmissionFilter(has_alert=True), 0),
    "commune + month + alert": (SubmissionFilter(commune="180103", event_from=date(2026, 3, 1),
                                                 event_to=date(2026, 3, 31), has_alert=False), 0),
}


def run(db: Database, repeat: int) -> list[tuple[str, float, float, int]]:
    out = []
    for name, (f, offset) in CASES.items():
        times = []
        total = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            with db.sessionmaker() as s:
                result = list_submissions(s, StaffRole.CASE, f, Page(offset, 50))
                total = result.total
            times.append((time.perf_counter() - t0) * 1000)
        out.append((name, statistics.median(times), percentile(times, 0.95), total))
        print(f"| {name} | {out[-1][1]:.1f} | {out[-1][2]:.1f} | {total} |", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pg", help="PostgreSQL server URL (a fresh database is created and dropped)")
    p.add_argument("--sqlite", action="store_true")
    p.add_argument("--n", type=int, default=100_000, help="workplace_visit submissions (+ n/6 village)")
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    rng = random.Random(1)
    targets = []
    if args.pg:
        targets.append("pg")
    if args.sqlite:
        targets.append("sqlite")
    for target in targets:
        name = None
        if target == "pg":
            url, name = fresh_pg(args.pg)
        else:
            url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
        try:
            migrate.upgrade(url)
            db = Database(url)
            seed(db, args.n, rng)
            print(f"\n### {target}, {args.n + args.n // 6} submissions, case role, page of 50 + capped count")
            print("| filter | p50 ms | p95 ms | total |\n|---|---:|---:|---:|")
            run(db, args.repeat)
            db.dispose()
        finally:
            if name and args.pg:
                drop_pg(args.pg, name)


if __name__ == "__main__":
    main()
