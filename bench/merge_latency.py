"""Benchmark: merge latency per member_intake with 10,000 and 100,000 existing members.

    .venv/bin/python bench/merge_latency.py --sqlite
    .venv/bin/python bench/merge_latency.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/merge_latency.py --pg URL --sqlite --sizes 10000,100000 --n 800

For each database (a fresh PostgreSQL database, dropped afterwards, or a temporary SQLite
file): migrate, publish the forms, load the gazetteer, create the workplaces of the linkage
generator (bench/linkage_quality.py), then for each size

1. seed members in bulk up to that size: the generator's first intakes become member rows,
   phones, nickname aliases and the linkage keys the merge would store (computed with the
   merge's own functions: ``linkage.member_record`` + ``match.blocking_keys``), inserted with
   executemany; no submissions, case_changes or candidate pairs are seeded for them;
2. store ``--n`` new member_intake submissions (a mix: ~20% repeat registrations of seeded
   people with the generator's spelling, phone and card variations, ~8% sisters of seeded
   people (hard negatives), the rest new people, minors included) and time
   ``worker.process_submission`` for each (one transaction each, as the worker does: lock,
   read XML, blocking lookup, scoring, candidate pairs, provenance, referrals, commit).

Only the merge is timed, not the insertion of the submission. Prints a markdown table and
writes bench/out/merge_latency.md. On PostgreSQL the candidate lookups of one merge are run
again under EXPLAIN (ANALYZE, BUFFERS) and the plans are included.
"""

from __future__ import annotations

import argparse
import csv
import functools
import random
import statistics
import sys
import tempfile
import time
import types
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select, text

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import linkage_quality as lq  # noqa: E402
from openrosa_ingest import drop_pg, percentile  # noqa: E402

from server.db import migrate  # noqa: E402
from server.db.models import (  # noqa: E402
    AliasKind,
    EntityType,
    LinkageKey,
    Member,
    MemberAlias,
    MemberPhone,
    MemberStatus,
    WorkplaceStatus,
)
from server.db.session import Database  # noqa: E402
from server.sync import cases, key_lookup, linkage, match  # noqa: E402
from server.sync.villages import load_villages  # noqa: E402
from server.sync.worker import process_submission  # noqa: E402
from server.xforms.publish import default_form_paths, publish_xlsform  # noqa: E402
from tests.support.submissions import add_submission, collector  # noqa: E402

OUT = BENCH / "out" / "merge_latency.md"
PROFILER: Any = None  # a cProfile.Profile with --profile
KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
SEED_CHUNK = 5_000
MEASURE_START = lq.START + timedelta(days=760)


def fresh_pg(base: str, prefix: str = "bench_merge") -> tuple[str, str]:
    """A new empty PostgreSQL database on the server of ``base`` (dropped by the caller)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


# --- answers ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _village_names() -> dict[str, str]:
    with (ROOT / "forms" / "media" / "villages.csv").open(encoding="utf-8-sig", newline="") as f:
        return {r["name"]: r["label"].partition(" / ")[2] for r in csv.DictReader(f)}


def form_answers(x: lq.Intake, workplace_ids: dict[str, uuid.UUID]) -> dict[str, str]:
    """The generator's intake as member_intake answers, as Collect would send them (ints in
    ASCII digits, the workplace chosen from the entity list, the home village typed by name:
    forms version 2026120203 has no village list)."""
    a = {k: v for k, v in x.answers.items() if v is not None}
    village = a.pop("origin_village", None)
    if village and not village.startswith("unk-"):
        a.setdefault("origin_commune", village[:6])
        a.setdefault("origin_village_text", _village_names().get(village, ""))
    when = x.intake.isoformat()
    out: dict[str, str] = {
        "start": f"{when}T08:00:00.000+07:00",
        "today_calc": when,
        "collector": a.pop("pe_code"),
        "consent_referral": "yes",
        "workplace_in_list": "yes",
        "workplace": str(workplace_ids[a.pop("workplace")]),
        "fl_screen": "none",
        "health_now": "no",
        "legal_now": "no",
    }
    if "age_stated" in a:
        a["age_stated"] = a["age_stated"].translate(KHMER_DIGITS)
        out["age_years"] = a["age_stated"]
    elif a.get("dob"):
        out["age_years"] = str((x.intake - date.fromisoformat(a["dob"])).days // 365)
    out.update(a)
    return out


# --- seeding ----------------------------------------------------------------------------------
def member_row(x: lq.Intake, answers: dict[str, str], rec: match.MemberRecord) -> dict[str, Any]:
    """The members row merge._member_values would write for this first intake."""
    bounds = rec.keys.birth_years
    dob = rec.dob if answers.get("dob_known") != "no" else None
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "member_code": rec.member_code,
        "claimed_code": None,
        "family_name_km": rec.family_name_km,
        "given_name_km": rec.given_name_km,
        "name_latin_raw": rec.name_latin,
        "dob": dob,
        "dob_precision": "exact" if dob else (
            "estimated" if rec.age_source == "collector_estimate" else "year"
        ),
        "age_at_intake": int(answers["age_years"]) if answers.get("age_years") else None,
        "age_source": rec.age_source,
        "zodiac": rec.zodiac,
        "intake_date": x.intake,
        "birth_year_min": bounds[0] if bounds else None,
        "birth_year_max": bounds[1] if bounds else None,
        "origin_village_code": rec.origin_village,
        "origin_commune_code": rec.keys.commune,
        "origin_text": rec.origin_village_text,
        "current_workplace_id": uuid.UUID(answers["workplace"]),
        "sector": rec.sector,
        "interests": [],
        "pe_code": rec.pe_code,
        "joined_date": x.intake,
        "status": MemberStatus.ACTIVE,
        "consent_record": True,
        "consent_referral": True,
        "consent_date": x.intake,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }  # fmt: skip


@dataclass
class World:
    gen: lq.Generator
    workplace_ids: dict[str, uuid.UUID]
    people: list[lq.Person] = field(default_factory=list)  # seeded people (adults)
    next_pid: int = 0


def seed_members(db: Database, world: World, target: int) -> float:
    """Bulk-insert members until there are ``target``; returns seconds."""
    t0 = time.perf_counter()
    gen, rng = world.gen, world.gen.rng
    with db.sessionmaker() as s:
        have = s.scalar(select(func.count()).select_from(Member)) or 0
    while have < target:
        members: list[dict[str, Any]] = []
        phones: list[dict[str, Any]] = []
        aliases: list[dict[str, Any]] = []
        keys: list[dict[str, Any]] = []
        while len(members) < min(SEED_CHUNK, target - have):
            if world.people and rng.random() < 0.08:
                p = gen.sister(world.next_pid, rng.choice(world.people))
            else:
                p = gen.person(world.next_pid)
            world.next_pid += 1
            when = lq.START + timedelta(days=rng.randrange(730))
            x = gen.intake(p, when, f"s{p.pid}", repeat=False)
            if x.answers.get("is_minor") == "yes":
                continue  # minors never become members
            answers = form_answers(x, world.workplace_ids)
            rec = match.MemberRecord.from_answers(answers, when)
            row = member_row(x, answers, rec)
            mid = row["id"]
            phone_rows = []
            owner = answers.get("phone_owner") or "none"
            e164 = match.normalise_phone(answers.get("phone"))
            if e164:
                phone_rows.append({"member_id": mid, "phone_e164": e164, "owner_type": owner,
                                   "first_seen": when, "last_seen": when})  # fmt: skip
            alias_rows = [
                {"member_id": mid, "kind": AliasKind.NICKNAME, "value": n.strip()[:200]}
                for n in (answers.get("nicknames") or "").split(",")
                if n.strip()
            ]
            # The keys the merge stores (linkage.refresh_member_keys) from the row as read back.
            shadow = types.SimpleNamespace(
                **row,
                phones=[types.SimpleNamespace(**r) for r in phone_rows],
                aliases=[types.SimpleNamespace(**r, from_member_id=None) for r in alias_rows],
            )
            for k in sorted({k[:255] for k in match.blocking_keys(linkage.member_record(shadow))}):
                keys.append({"entity_type": EntityType.MEMBER, "entity_id": mid, "key": k})
            members.append(row)
            phones += phone_rows
            aliases += alias_rows
            world.people.append(p)
        with db.transaction() as s:
            # A card the measured intakes registered meanwhile stays theirs (unique codes).
            codes = [m["member_code"] for m in members if m["member_code"]]
            taken = set(s.scalars(select(Member.member_code).where(Member.member_code.in_(codes))))
            for m in members:
                if m["member_code"] in taken:
                    m["member_code"] = None
            s.execute(insert(Member), members)
            if phones:
                s.execute(insert(MemberPhone), phones)
            if aliases:
                s.execute(insert(MemberAlias), aliases)
            s.execute(insert(LinkageKey), keys)
        have += len(members)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum would have done by now
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - t0


# --- measuring --------------------------------------------------------------------------------
_DRIVER_LOOKUP = key_lookup.pg_member_rows


class SqlMeter:
    """Counts statements and their time; optionally records linkage_keys lookups."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.seconds = 0.0
        self.capture: list[tuple[str, Any]] | None = None
        event.listen(db.engine, "before_cursor_execute", self._before)
        event.listen(db.engine, "after_cursor_execute", self._after)
        self.watch_driver_lookup()

    def _before(self, conn: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        conn.info["bench_t0"] = time.perf_counter()
        if self.capture is not None and "FROM linkage_keys" in statement and any(
            w in statement for w in ("count(", "DISTINCT", "UNION ALL")
        ):
            self.capture.append((statement, params))

    def _after(self, conn: Any, *_: Any) -> None:
        self.statements += 1
        self.seconds += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())

    def watch_driver_lookup(self) -> None:
        """The PostgreSQL member lookup runs on the driver's cursor, which SQLAlchemy's events do
        not see: counted, timed and captured here."""
        original = _DRIVER_LOOKUP  # not an earlier meter's wrapper: each call counted once

        def counted(session: Any, keys: list[str], exclude: Any, params: dict[str, Any]) -> Any:
            if self.capture is not None:
                self.capture.append((key_lookup._PG_MEMBER_LOOKUP,
                                     key_lookup.pg_lookup_params(keys, exclude, params)))
            t0 = time.perf_counter()
            try:
                return original(session, keys, exclude, params)
            finally:
                self.statements += 1
                self.seconds += time.perf_counter() - t0

        key_lookup.pg_member_rows = counted


@dataclass
class Sample:
    ms: float
    cpu_ms: float
    db_ms: float
    statements: int
    candidates: int
    kind: str
    ok: bool
    pairs: int


def make_intakes(world: World, n: int) -> list[tuple[str, lq.Intake]]:
    gen, rng = world.gen, world.gen.rng
    out: list[tuple[str, lq.Intake]] = []
    for i in range(n):
        when = MEASURE_START + timedelta(days=rng.randrange(60))
        r = rng.random()
        if r < 0.20:
            p, kind, repeat = rng.choice(world.people), "repeat", True
        elif r < 0.28:
            p, kind, repeat = gen.sister(world.next_pid, rng.choice(world.people)), "sister", False
            world.next_pid += 1
        else:
            p, kind, repeat = gen.person(world.next_pid), "new", False
            world.next_pid += 1
        x = gen.intake(p, when, f"m{i}", repeat=repeat)
        if x.answers.get("is_minor") == "yes":
            kind = "minor"
        out.append((kind, x))
    return out


def measure(db: Database, world: World, n: int, meter: SqlMeter) -> list[Sample]:
    counts: list[int] = []
    original = linkage.candidates_by_keys

    def counting(*args: Any, **kwargs: Any) -> list[uuid.UUID]:
        ids = original(*args, **kwargs)
        counts.append(len(ids))
        return ids

    linkage.candidates_by_keys = counting  # merge.py calls it as linkage.candidates_by_keys
    samples: list[Sample] = []
    try:
        with db.transaction() as s:
            by = collector(s, "PE01")
        for kind, x in make_intakes(world, n):
            with db.transaction() as s:
                sid = add_submission(s, "member_intake", form_answers(x, world.workplace_ids), by=by).id
            counts.clear()
            st0, sec0 = meter.statements, meter.seconds
            if PROFILER is not None:
                PROFILER.enable()
            t0, c0 = time.perf_counter(), time.process_time()
            result = process_submission(db, sid)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            if PROFILER is not None:
                PROFILER.disable()
            samples.append(Sample(
                ms=elapsed * 1000, cpu_ms=cpu * 1000, db_ms=(meter.seconds - sec0) * 1000,
                statements=meter.statements - st0, candidates=sum(counts), kind=kind, ok=result.ok,
                pairs=len(result.outcome.candidate_pairs) if result.outcome else 0,
            ))  # fmt: skip
    finally:
        linkage.candidates_by_keys = original
    return samples


def explain_lookups(db: Database, world: World, meter: SqlMeter) -> list[str]:
    """Merge one more repeat intake while capturing its linkage_keys lookups; EXPLAIN them."""
    meter.capture = []
    try:
        measure(db, world, 1, meter)
    finally:
        captured, meter.capture = meter.capture, None
    lines: list[str] = []
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in captured[:2]:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = [r[0] for r in cur.fetchall()]
            first = " ".join(statement.split())[:90]
            lines += [f"`{first}…`", "", "```", *plan, "```", ""]
        raw.rollback()
    finally:
        raw.close()
    return lines


def summarise(kind: str, size: int, samples: list[Sample]) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    return {
        "db": kind,
        "size": size,
        "n": len(samples),
        "p50": statistics.median(ms),
        "p95": percentile(ms, 0.95),
        "p99": percentile(ms, 0.99),
        "max": max(ms),
        "cpu50": statistics.median(s.cpu_ms for s in samples),
        "cpu95": percentile([s.cpu_ms for s in samples], 0.95),
        "cand_mean": statistics.mean(s.candidates for s in samples),
        "cand_p95": percentile([s.candidates for s in samples], 0.95),
        "cand_max": max(s.candidates for s in samples),
        "stmts": statistics.median(s.statements for s in samples),
        "db_share": sum(s.db_ms for s in samples) / sum(ms),
        "failed": sum(not s.ok for s in samples),
        "pairs": sum(s.pairs for s in samples),
        "kinds": Counter(s.kind for s in samples),
    }


def run_database(kind: str, url: str, sizes: list[int], n: int, seed: int, explain: bool) -> tuple[
    list[dict[str, Any]], list[str]
]:
    migrate.upgrade(url)
    db = Database(url)
    gen = lq.Generator(seed)
    with db.transaction() as s:
        for path in default_form_paths():
            publish_xlsform(s, path)
        load_villages(s)
        wps = {}
        for w in gen.workplaces:
            village = random.Random(w).choice(["18010101", "18010201", "12010101"])
            wps[w] = cases.create_workplace(s, name_latin=f"Bench KTV {w}", type="karaoke",
                                            village_code=village, status=WorkplaceStatus.OPEN).id
    world = World(gen, wps)
    meter = SqlMeter(db)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        for size in sizes:
            seconds = seed_members(db, world, size)
            with db.sessionmaker() as s:
                members = s.scalar(select(func.count()).select_from(Member)) or 0
                keys = s.scalar(select(func.count()).select_from(LinkageKey)) or 0
            print(f"[{kind}] {members} members, {keys} linkage keys (seeded in {seconds:.0f} s)",
                  file=sys.stderr)  # fmt: skip
            measure(db, world, 20, meter)  # warm-up, not counted
            samples = measure(db, world, n, meter)
            row = summarise(kind, members, samples)
            row["keys"] = keys
            rows.append(row)
            print(f"[{kind}] {members}: p50 {row['p50']:.1f} ms p95 {row['p95']:.1f} ms, "
                  f"CPU p50 {row['cpu50']:.1f} ms, {row['stmts']:.0f} statements", file=sys.stderr)
            if explain and not db.is_sqlite:
                notes += [f"#### EXPLAIN, PostgreSQL, {members} members", ""]
                notes += explain_lookups(db, world, meter)
    finally:
        db.dispose()
    return rows, notes


def table(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        "### Merge latency per member_intake (`worker.process_submission`, one transaction each)",
        "",
        f"`{command}`",
        "",
        "| database | existing members | linkage keys | n | p50 ms | p95 ms | p99 ms | max ms "
        "| candidates compared (mean / p95 / max) | CPU ms p50 / p95 (merger process) "
        "| SQL statements (median) | time in DB | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['db']} | {r['size']:,} | {r['keys']:,} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['p99']:.1f} | {r['max']:.1f} | {r['cand_mean']:.1f} / {r['cand_p95']} / {r['cand_max']} "
            f"| {r['cpu50']:.1f} / {r['cpu95']:.1f} | {r['stmts']:.0f} | {r['db_share']:.0%} "
            f"| {r['failed']} |"
        )
    lines.append("")
    by_db: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_db.setdefault(r["db"], []).append(r)
    for db, rs in by_db.items():
        if len(rs) >= 2:
            a, b = rs[0], rs[-1]
            lines.append(
                f"- {db}: {b['size']:,} vs {a['size']:,} members ({b['size'] / a['size']:.0f}x): "
                f"p50 x{b['p50'] / a['p50']:.2f}, p95 x{b['p95'] / a['p95']:.2f}."
            )
    if rows:
        mix = rows[0]["kinds"]
        lines.append(
            "- Intake mix per run: " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items()))
            + " (repeat = a seeded person registered again with spelling/phone/card variations; "
            "sister = hard negative; minor = no member, child-protection referral)."
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", "--database-url", dest="pg", default=None,
                        help="PostgreSQL server URL; a scratch database is created there and dropped")
    parser.add_argument("--sqlite", action="store_true", help="also (or only) run on a temporary SQLite file")
    parser.add_argument("--sizes", default="10000,100000", help="existing members, comma-separated")
    parser.add_argument("--n", type=int, default=800, help="intakes measured per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the measured merges; top functions to stderr")
    parser.add_argument("--quick", action="store_true", help="--sizes 2000 --n 100 --no-explain")
    args = parser.parse_args(argv)  # fmt: skip
    if args.quick:
        args.sizes, args.n, args.no_explain = "2000", 100, True
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.profile:
        import cProfile

        global PROFILER
        # CPU time, not wall time: on a shared machine the wall clock mostly measures waiting.
        PROFILER = cProfile.Profile(time.process_time)
    if not args.pg and not args.sqlite:
        args.sqlite = True
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    if args.pg:
        url, name = fresh_pg(args.pg)
        try:
            r, nt = run_database("postgresql", url, sizes, args.n, args.seed, not args.no_explain)
            rows += r
            notes += nt
        finally:
            drop_pg(args.pg, name)
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="sahakum-merge-bench-") as tmp:
            r, _ = run_database("sqlite", f"sqlite:///{tmp}/bench.sqlite3", sizes, args.n, args.seed, False)
            rows += r
    command = "python bench/merge_latency.py " + " ".join(argv if argv is not None else sys.argv[1:])
    md = table(rows, command) + "\n" + "\n".join(notes)
    print(md)
    if PROFILER is not None:
        import pstats

        PROFILER.dump_stats(str(OUT.with_suffix(".prof")))  # for pstats: callers, callees
        pstats.Stats(PROFILER, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        pstats.Stats(PROFILER, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
