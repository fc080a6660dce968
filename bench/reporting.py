# ruff: noqa: E501  (row dictionaries of generated data kept one per line)
"""Reporting benchmarks (not a test): submission exports and the indicator report.

    python bench/reporting.py                       # SQLite in a temporary folder
    python bench/reporting.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/reporting.py --quick [--only export|report]   # small sizes, a smoke run

Every figure is the median of --runs runs (5), wall time and CPU time (time.process_time, which
a loaded machine does not inflate), with the number of SQL statements sent.

1. Export: N workplace_visit submissions (and N village_data ones, which have repeats) are
   stored as Collect sends them (one current version each), then exported as CSV and XLSX
   through server.reports.exports (CSV: the main table and each repeat's table; XLSX: one book
   with a sheet per table), timing the whole stream and the peak of Python allocations
   (tracemalloc) at 1/10, 1/2 and all of N: flat memory means the peak does not grow with N.
2. Report: a year of data at the scale of 100,000 submissions (70,000 visits, 20,000 intakes
   as members, 10,000 village reports) plus staff records, then build_report for the year and
   for one month.

Rows are inserted with Core (executemany) so setting up takes seconds, not the merge's hours;
the report reads the same tables merge would have written.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.db import migrate
from server.db.models import (
    Attendance,
    AttendeeKind,
    Collector,
    CollectorRole,
    Course,
    CourseCategory,
    Form,
    Member,
    MonitoringVisit,
    Referral,
    RiskLevel,
    SavingsBook,
    SavingsGroup,
    SavingsMembership,
    SavingsTransaction,
    StaffRole,
    Submission,
    SubmissionState,
    SubmissionVersion,
    TargetGroup,
    TrainingSession,
    VillageReport,
    VillageReportStatus,
    Workplace,
)
from server.db.session import Database
from server.reports import exports
from server.reports.report import build_report
from server.xforms.publish import FORMS_DIR, publish_compiled
from tests.integration.test_merge_village import report as village_answers
from tests.integration.test_merge_visit import visit as visit_answers
from tests.support.submissions import build_xml

rng = random.Random(1)
COMMUNES = ["180101", "180102", "180103", "180104", "180201", "180204"]


def fresh_database(pg: str | None, folder: Path) -> tuple[str, Callable[[], None]]:
    if not pg:
        return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None
    url = make_url(pg)
    name = f"sahakum_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop() -> None:
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def publish(db: Database) -> dict[str, tuple[int, int, bytes]]:
    from server.xforms.compile import compile_xlsform

    out = {}
    with db.transaction() as s:
        for form_id in ("workplace_visit", "village_data"):
            publish_compiled(s, compile_xlsform(FORMS_DIR / f"{form_id}.xlsx"), FORMS_DIR / "media")
        for form in s.scalars(select(Form)):
            fv = form.versions[-1]
            out[form.xml_form_id] = (form.id, fv.id, fv.xml)
    return out


def collector(db: Database, name: str, role: CollectorRole) -> int:
    with db.transaction() as s:
        c = Collector(name=name, role=role, token_hash=uuid.uuid4().hex, communes=" ".join(COMMUNES))
        s.add(c)
        s.flush()
        return c.id


def store_submissions(db: Database, form: tuple[int, int, bytes], variants: list[dict[str, Any]], n: int,
                      by: int, start: date) -> list[uuid.UUID]:
    """n stored submissions of a form, answers cycling through `variants`; returns their ids."""
    form_id, version_id, form_xml = form
    templates = [build_xml(form_xml, v, instance_id="uuid:INSTANCE") for v in variants]
    ids = []
    subs, versions = [], []
    for i in range(n):
        sid, iid = uuid.uuid4(), f"uuid:{uuid.uuid4()}"
        xml = templates[i % len(templates)].replace(b"uuid:INSTANCE", iid.encode())
        received = datetime.combine(start + timedelta(days=i % 365), datetime.min.time(), tzinfo=UTC)
        subs.append({"id": sid, "form_id": form_id, "root_instance_id": iid, "state": SubmissionState.MERGED,
                     "created_at": received, "updated_at": received})
        versions.append({"submission_id": sid, "form_id": form_id, "form_version_id": version_id,
                         "instance_id": iid, "is_current": True, "xml": xml, "xml_sha256": "0" * 64,
                         "c14n_sha256": "0" * 64, "submitted_by_id": by, "received_at": received})
        ids.append(sid)
    with db.transaction() as s:
        for lo in range(0, n, 5000):
            s.execute(insert(Submission), subs[lo:lo + 5000])
            s.execute(insert(SubmissionVersion), versions[lo:lo + 5000])
    return ids


def visit_variants(workplace: uuid.UUID) -> list[dict[str, Any]]:
    return [visit_answers(workplace, n_met=str(k), activities="leaflets negotiated_with_owner",
                          training_allowed=rng.choice(["yes", "no"]), n_leaflets=str(k))
            for k in range(1, 21)]


def village_variants() -> list[dict[str, Any]]:
    venues = [{"nv_name": f"Venue {k}", "nv_type": "karaoke"} for k in range(3)]
    return [village_answers(village=f"180101{k:02d}", n_new_venues="3", new_venue=venues) for k in range(1, 11)]


def consume(chunks: Any) -> int:
    return sum(len(c) for c in chunks)


class Statements:
    """Counts the SQL statements sent on an engine (a load-independent measure)."""

    def __init__(self, engine: Any) -> None:
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.n += 1


def run_export(db: Database, form_id: str, fmt: str) -> int:
    req = exports.ExportRequest(form_id=form_id, role=StaffRole.CASE, with_pii=True)
    with db.sessionmaker() as s:
        lay = exports.export_layout(s, req)
        if fmt == "xlsx":
            return consume(exports.stream_xlsx(s, req, lay))
        # CSV is one file per table: the main table, then each repeat's.
        return sum(consume(exports.stream_csv(s, req, lay, table)) for table in (None, *lay.repeats))


def timed(runs: int, fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Median wall seconds and median CPU seconds (time.process_time: what this process
    computed, which other processes on a loaded machine do not inflate) over `runs` runs."""
    walls, cpus, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def time_export(db: Database, form_id: str, fmt: str, runs: int) -> tuple[float, float, int, int, int]:
    """Median wall and CPU time, statements sent, then the peak of Python allocations in
    another run (tracemalloc slows the run it watches, so it is not timed)."""
    count = Statements(db.engine)
    wall, cpu, size = timed(runs, lambda: run_export(db, form_id, fmt))
    statements = count.n // runs
    event.remove(db.engine, "before_cursor_execute", count._count)
    tracemalloc.start()
    run_export(db, form_id, fmt)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return wall, cpu, statements, peak, size


def export_bench(url: str, n: int, runs: int) -> None:
    db = Database(url)
    forms = publish(db)
    pe = collector(db, "PE01", CollectorRole.PEER_EDUCATOR)
    vc = collector(db, "V01", CollectorRole.VILLAGE)
    wp = uuid.uuid4()
    with db.transaction() as s:
        s.add(Workplace(id=wp, workplace_code="W00001", type="karaoke", commune_code="180101"))
    done = 0
    print(f"medians of {runs} runs; CSV is every table's file (main + one per repeat)\n")
    print("| submissions | form | format | wall s | CPU s | statements | peak Python MB | file MB |\n"
          "|---|---|---|---|---|---|---|---|")
    for target in (n // 10, n // 2, n):
        store_submissions(db, forms["workplace_visit"], visit_variants(wp), target - done, pe, date(2026, 1, 1))
        store_submissions(db, forms["village_data"], village_variants(), target - done, vc, date(2026, 1, 1))
        done = target
        for form_id in ("workplace_visit", "village_data"):
            for fmt in ("csv", "xlsx"):
                wall, cpu, statements, peak, size = time_export(db, form_id, fmt, runs)
                print(f"| {target} | {form_id} | {fmt} | {wall:.3f} | {cpu:.3f} | {statements} | {peak / 1e6:.1f} "
                      f"| {size / 1e6:.1f} |", flush=True)
    db.dispose()


def report_data(db: Database, n_visits: int, n_members: int, n_village: int) -> None:
    """A year (2026) of rows as merge and staff entry would have left them."""
    year = date(2026, 1, 1)
    day = lambda: year + timedelta(days=rng.randrange(365))  # noqa: E731
    pe = collector(db, "PE02", CollectorRole.PEER_EDUCATOR)
    with db.sessionmaker() as s:
        forms = {f.xml_form_id: f.id for f in s.scalars(select(Form))}
    workplaces = [{"id": uuid.uuid4(), "workplace_code": f"W{k:05d}", "type": rng.choice(["karaoke", "brothel"]),
                   "commune_code": rng.choice(COMMUNES)} for k in range(400)]
    wp_ids = [w["id"] for w in workplaces]

    def subs(form: str, n: int) -> list[uuid.UUID]:
        rows, vers, ids = [], [], []
        for _ in range(n):
            sid, iid = uuid.uuid4(), f"uuid:{uuid.uuid4()}"
            at = datetime.combine(day(), datetime.min.time(), tzinfo=UTC)
            rows.append({"id": sid, "form_id": forms[form], "root_instance_id": iid, "state": "merged",
                         "created_at": at, "updated_at": at})
            vers.append({"submission_id": sid, "form_id": forms[form], "form_version_id": 1, "instance_id": iid,
                         "is_current": True, "xml": b"<x/>", "xml_sha256": "0", "c14n_sha256": "0",
                         "submitted_by_id": pe, "received_at": at})
            ids.append(sid)
        with db.transaction() as s:
            for lo in range(0, n, 5000):
                s.execute(insert(Submission), rows[lo:lo + 5000])
                s.execute(insert(SubmissionVersion), vers[lo:lo + 5000])
        return ids

    with db.transaction() as s:
        s.execute(insert(Workplace), workplaces)
    visit_subs = subs("workplace_visit", n_visits)
    member_subs = subs("member_intake" if "member_intake" in forms else "workplace_visit", n_members)
    village_subs = subs("village_data", n_village)
    members = [{"id": uuid.uuid4(), "member_code": f"M{k:07d}", "sector": rng.choice(["karaoke", "brothel_based"]),
                "intake_date": day(), "joined_date": day(), "status": "active",
                "current_workplace_id": rng.choice(wp_ids), "source_submission_id": sid}
               for k, sid in enumerate(member_subs)]
    visits = [{"id": uuid.uuid4(), "visit_id": f"v{k}", "submission_id": sid, "workplace_id": rng.choice(wp_ids),
               "visit_date": day(), "access": rng.choice(["inside_freely", "refused"]),
               "u18_suspected": rng.choice(["no"] * 20 + ["yes"]), "indicators": rng.choice([[], [], ["movement"]]),
               "activities": rng.choice([["leaflets"], ["negotiated_with_owner"]]), "n_leaflets": 3,
               "details": {"training_allowed": "yes"}, "pe_safety": "safe",
               "risk_level": rng.choice(list(RiskLevel))} for k, sid in enumerate(visit_subs)]
    reports = [{"id": uuid.uuid4(), "submission_id": sid, "village_code": f"1801{k % 9999:04d}",
                "commune_code": rng.choice(COMMUNES), "period_ym": f"2026-{k % 12 + 1:02d}",
                "accepted_period_ym": f"2026-{k % 12 + 1:02d}", "status": VillageReportStatus.ACCEPTED,
                "n_left_women_15_24": 1, "n_new_venues": 0} for k, sid in enumerate(village_subs)]
    referrals = [{"id": uuid.uuid4(), "case_code": f"C{k:06d}", "category": rng.choice(["health", "forced_labour"]),
                  "source": "intake", "status": "closed", "priority": "normal",
                  "member_id": rng.choice(members)["id"], "event_date": day(), "outcome": "service_received"}
                 for k in range(5000)]
    with db.transaction() as s:
        for table, rows in ((Member, members), (MonitoringVisit, visits), (VillageReport, reports),
                            (Referral, referrals)):
            for lo in range(0, len(rows), 5000):
                s.execute(insert(table), rows[lo:lo + 5000])
        course = uuid.uuid4()
        s.execute(insert(Course), [{"id": course, "course_code": "AW", "title": "t", "category": CourseCategory.AWARENESS}])
        sessions = [{"id": uuid.uuid4(), "session_code": f"S{k}", "course_id": course, "session_date": day(),
                     "target_group": rng.choice([TargetGroup.KARAOKE_WORKERS, TargetGroup.WOMEN_IN_PROSTITUTION]),
                     "commune_code": rng.choice(COMMUNES), "anonymous_headcount": 10} for k in range(600)]
        s.execute(insert(TrainingSession), sessions)
        s.execute(insert(Attendance), [{"session_id": rng.choice(sessions)["id"], "kind": AttendeeKind.MEMBER,
                                        "member_id": m["id"]} for m in members[:10000]])
        groups = [{"id": uuid.uuid4(), "group_code": f"SG{k}", "name": "g", "report_group": "karaoke"}
                  for k in range(20)]
        s.execute(insert(SavingsGroup), groups)
        s.execute(insert(SavingsMembership), [{"group_id": groups[k % 20]["id"], "member_id": m["id"],
                                               "joined_date": date(2025, 12, 1)} for k, m in enumerate(members[:3000])])
        books = [{"id": uuid.uuid4(), "book_number": f"B{k}", "holder_type": "member", "member_id": m["id"],
                  "issued_date": day()} for k, m in enumerate(members[:3000])]
        s.execute(insert(SavingsBook), books)
        s.execute(insert(SavingsTransaction), [{"book_id": rng.choice(books)["id"], "kind": "deposit",
                                                "transaction_date": day(), "amount": 1000, "currency": "KHR"}
                                               for _ in range(20000)])


def report_bench(url: str, n: int, runs: int) -> None:
    db = Database(url)
    publish(db)
    from server.xforms.compile import compile_xlsform

    with db.transaction() as s:
        publish_compiled(s, compile_xlsform(FORMS_DIR / "member_intake.xlsx"), FORMS_DIR / "media")
    t0 = time.perf_counter()
    report_data(db, int(n * 0.7), int(n * 0.2), int(n * 0.1))
    print(f"set-up: {n} submissions in {time.perf_counter() - t0:.1f} s; medians of {runs} runs\n")
    print("| period | wall s | CPU s | statements |\n|---|---|---|---|")
    for period in ("2026", "2026-11"):
        def build(p: str = period) -> None:
            with db.sessionmaker() as s:
                build_report(s, p)

        build()  # warm: the first run also loads the code paths
        count = Statements(db.engine)
        wall, cpu, _ = timed(runs, build)
        event.remove(db.engine, "before_cursor_execute", count._count)
        print(f"| {period} | {wall:.3f} | {cpu:.3f} | {count.n // runs} |", flush=True)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL server URL (a fresh database is made and dropped)")
    parser.add_argument("--export-rows", type=int, default=10_000)
    parser.add_argument("--report-submissions", type=int, default=100_000)
    parser.add_argument("--only", choices=["export", "report"])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (the median is shown)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 3 runs (2,000 exported, 20,000 in the report): a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.export_rows, args.report_submissions, args.runs = 2_000, 20_000, 3
    engine = "PostgreSQL" if args.pg else "SQLite"
    with tempfile.TemporaryDirectory() as folder:
        for name, bench, size in (("export", export_bench, args.export_rows),
                                  ("report", report_bench, args.report_submissions)):
            if args.only and args.only != name:
                continue
            url, drop = fresh_database(args.pg, Path(folder) / name)
            (Path(folder) / name).mkdir(exist_ok=True)
            try:
                migrate.upgrade(url)
                print(f"\n## {name} on {engine}\n")
                bench(url, size, args.runs)
            finally:
                drop()


if __name__ == "__main__":
    main()
