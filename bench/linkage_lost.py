"""Which true duplicate pairs does the matcher lose, and where (issue 12)?

    python bench/linkage_lost.py --generator field --records 2000 --seeds 11,12,13
    python bench/linkage_lost.py --generator quality --records 2000 --seeds 1 --show 40

Replays the records in intake order exactly as bench/linkage_field.replay does (the
database's candidate selection), and for every true pair that is not surfaced names the
stage that lost it:

* ``no_shared_key``: the two records have no blocking key in common (candidate generation);
* ``stop_key``: they share keys, but each was already over ``MAX_KEY_CANDIDATES``;
* ``birth_filter``: dropped before scoring, birth-year bounds disjoint;
* ``rank_cap``: found, but not among the ``MAX_SCORED_CANDIDATES`` scored;
* ``veto_*``: scored and vetoed; ``guard``: the weight reached the queue threshold but a
  guard of the combiner held it back; ``below_threshold``: scored under the queue threshold.

Prints a table stage x variation, then the first ``--show`` lost pairs with their evidence
(evidence codes only, and the raw answers of the fictional records).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage_field import FieldGenerator, Record
from linkage_quality import Generator, load_villages

from server.sync.match import (
    MAX_KEY_CANDIDATES,
    MAX_SCORED_CANDIDATES,
    Decision,
    MemberRecord,
    birth_years_compatible,
    blocking_keys,
    decide,
    make_village_resolver,
    rank_candidates,
    score_members,
)
from server.sync.match.result import POSSIBLE_WEIGHT

_SHOWN = ("family_name_km", "given_name_km", "name_latin", "nicknames", "dob", "age_stated",
          "age_source", "phone", "phone_owner", "origin_village", "origin_commune",
          "origin_district", "origin_village_text", "workplace", "member_code")  # fmt: skip


def _dataset(generator: str, seed: int, n: int) -> list[Record]:
    if generator == "field":
        return FieldGenerator(seed).dataset(n)
    return [Record(x, set()) for x in Generator(seed).dataset(n)]


def lost_pairs(data: list[Record]) -> list[tuple[str, Record, Record, object]]:
    """(stage, earlier record, later record, result or None) of every true pair not surfaced."""
    resolver = make_village_resolver(load_villages())
    recs = {r.intake.rid: MemberRecord.from_answers(r.intake.answers, r.intake.intake,
                                                    record_id=r.intake.rid,
                                                    village_resolver=resolver)
            for r in data}  # fmt: skip
    keys_of = {rid: set(blocking_keys(m)) for rid, m in recs.items()}
    index: dict[str, list[str]] = defaultdict(list)
    earlier: dict[int, list[Record]] = defaultdict(list)
    out: list[tuple[str, Record, Record, object]] = []
    for r in data:
        rid = r.intake.rid
        rec, keys = recs[rid], keys_of[rid]
        usable = {k for k in keys if len(index.get(k, [])) <= MAX_KEY_CANDIDATES}
        hits = {k: [c for c in index.get(k, []) if k.startswith("mc:") or
                    birth_years_compatible(recs[c].keys.birth_years, rec.keys.birth_years)]
                for k in usable}  # fmt: skip
        counts = {k: len(index.get(k, ())) for k in keys}
        ranked = set(rank_candidates(hits, counts, MAX_SCORED_CANDIDATES))
        for other in earlier[r.intake.pid]:
            oid = other.intake.rid
            shared = keys & keys_of[oid]
            res = None
            if not shared:
                stage = "no_shared_key"
            elif not shared & usable:
                stage = "stop_key"
            elif not any(oid in hits[k] for k in shared & usable):
                stage = "birth_filter"
            elif oid not in ranked:
                stage = "rank_cap"
            else:
                res = score_members(recs[oid], rec, key_counts=counts)
                if decide(recs[oid], rec, res) is not Decision.NONE:
                    continue
                if res.veto:
                    stage = "veto_" + res.veto
                elif res.weight >= POSSIBLE_WEIGHT:
                    stage = "guard"
                else:
                    stage = "below_threshold"
            out.append((stage, other, r, res))
        earlier[r.intake.pid].append(r)
        for k in keys:
            index[k].append(rid)
    return out


def _answers(r: Record) -> str:
    a = r.intake.answers
    return "; ".join(f"{k}={a[k]}" for k in _SHOWN if a.get(k))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--generator", choices=("field", "quality"), default="field")
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--seeds", default="11,12,13")
    ap.add_argument("--show", type=int, default=20)
    ap.add_argument("--stage", default="", help="show only lost pairs of this stage")
    args = ap.parse_args(argv)
    lost: list[tuple[str, Record, Record, object]] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        lost += lost_pairs(_dataset(args.generator, seed, args.records))
    by_stage = Counter(s for s, *_ in lost)
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for stage, a, b, _res in lost:
        for tag in a.tags | b.tags or {"(none)"}:
            table[tag][stage] += 1
    stages = sorted(by_stage)
    print(f"lost true pairs: {len(lost)} — " + ", ".join(f"{s} {by_stage[s]}" for s in stages))
    print("\n| variation | " + " | ".join(stages) + " |")
    print("|---|" + "---:|" * len(stages))
    for tag in sorted(table):
        print(f"| {tag} | " + " | ".join(str(table[tag][s]) for s in stages) + " |")
    shown = [x for x in lost if not args.stage or x[0] == args.stage][: args.show]
    for stage, a, b, res in shown:
        print(f"\n[{stage}] tags={sorted(a.tags | b.tags)} kind={a.kind}")
        print("  A:", _answers(a))
        print("  B:", _answers(b))
        if res is not None:
            print(f"  weight={res.weight} band={res.band} raw={res.raw_band} cap={res.cap} "
                  f"evidence={','.join(res.evidence)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
