"""Field-variation linkage benchmark (issue 12), with its own labelled-data generator.

    python bench/linkage_field.py --records 3000 --seeds 11,12,13

Generates fictional member_intake records in which every repeat registration of a woman
carries the variations seen in the field, each tagged, and hard negatives (cousins with the
same name from the same village, sisters sharing a family name, village and family phone,
common names, a bar's phone given as "own" by many women). The records are replayed in
intake order through the same blocking_keys()/rank_candidates()/score_members()/decide() as
the database (bench/linkage_quality.run). The report gives recall, queue precision,
strong-band precision and wrong automatic merges overall and per variation, beside the
exact-match baseline. The labels are used only to count, never to block or score.

Frequencies are this generator's own (not those of bench/linkage_quality.py): the weights in
server/sync/match/fs_params.json are fitted on seeds 1-3 of this generator
(bench/fit_linkage_weights.py), so report other seeds. A pair carries the variations of its
two records, plus ``khmer_only_vs_latin_only`` when one is in Khmer only and the other in
Latin only; wrong pairs are counted by kind (cousin, sister, bar phone, common name, other).
bench/linkage_lost.py says at which stage each lost true pair was lost.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage_quality import Intake, load_villages

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

OUT = Path(__file__).resolve().parent / "out" / "linkage_field.md"
KM_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")

# (Khmer, Latin spellings) — family names, then given names; frequencies Zipf-like (s=1.0).
FAMILY = [
    ("សុខ", ["Sok", "Sokh"]), ("ចាន់", ["Chan", "Chann"]), ("ហេង", ["Heng"]),
    ("លី", ["Ly", "Lee"]), ("កែវ", ["Keo", "Kaev"]), ("សេង", ["Seng"]), ("ម៉ៅ", ["Mao"]),
    ("ឈុន", ["Chhun", "Chun"]), ("ពៅ", ["Pov", "Pauv"]), ("អ៊ុំ", ["Um", "Oum"]),
    ("សយ", ["Soy", "Sai"]), ("ទូច", ["Touch", "Tuch"]), ("ឃឹម", ["Khim", "Kheum"]),
    ("ញ៉ែម", ["Nhem", "Gnem"]), ("ភួង", ["Phuong", "Pheung"]), ("រិទ្ធ", ["Rith", "Ret"]),
    ("ស៊ាន", ["Sean", "Sien"]), ("យស់", ["Yos", "Yuos"]), ("គង់", ["Kong", "Kung"]),
    ("ឆាយ", ["Chhay", "Chay"]), ("មាស", ["Meas", "Mias"]), ("ផាន", ["Phan", "Phann"]),
]  # fmt: skip
GIVEN = [
    ("សុខា", ["Sokha", "Sokhar"]), ("ស្រីល័ក្ខ", ["Sreyleak", "Srey Leak"]),
    ("វណ្ណា", ["Vanna", "Wanna"]), ("ស្រីមុំ", ["Sreymom", "Srey Mom"]),
    ("ចិន្តា", ["Chenda", "Jenda"]), ("ធីតា", ["Thida", "Tida"]), ("កញ្ញា", ["Kanha", "Kagna"]),
    ("ស្រីនាង", ["Sreyneang", "Srei Neang"]), ("សុភា", ["Sophea", "Sophear"]),
    ("សុភាព", ["Sopheap"]), ("លក្ខិណា", ["Leakhena", "Lakhena"]), ("ផល្លា", ["Phalla", "Phala"]),
    ("សុគន្ធា", ["Sokunthea", "Sokonthea"]), ("ស្រីពៅ", ["Sreypov", "Srey Pov"]),
    ("ដាលីន", ["Dalin", "Daline"]), ("សុធារី", ["Sotheary", "Sothiry"]),
    ("ពិសី", ["Pisey", "Pisei"]), ("រចនា", ["Rachana", "Reachna"]), ("ស្រីនិត", ["Sreynit"]),
    ("ចរិយា", ["Chariya", "Chareya"]), ("បូផា", ["Bopha", "Bophar"]), ("នីតា", ["Nita"]),
    ("ស្រីខួច", ["Sreykhouch", "Srey Khuoch"]), ("មករា", ["Makara", "Mekara"]),
    ("សុវត្ថា", ["Sovatha", "Sovathar"]), ("ចន្ទី", ["Chanthy", "Chanthi"]),
    ("ស្រីណុច", ["Sreynoch", "Srey Noch"]), ("គន្ធា", ["Kunthea", "Kuntheа"]),
    ("ស្រីរ័ត្ន", ["Sreyrath", "Srey Roth"]), ("ម៉ាលីស", ["Malis", "Maliss"]),
    ("សំណាង", ["Samnang", "Somnang"]), ("ស្រីអូន", ["Sreyoun", "Srey Oun"]),
]  # fmt: skip
NICKS = ["Pov", "Toch", "Mom", "Nang", "Oun", "Lin", "Noch", "Pheap", "Kha", "Chan"]
# Khmer spelling variants the field produces (issue 12): (pattern, replacement, tag).
KM_VARIANTS = [
    ("ក្ខ", "ក", "km_final_subscript"), ("ណ្ណ", "ណ", "km_final_subscript"),
    ("ល្លា", "លា", "km_final_subscript"), ("ត្ន", "ត", "km_final_subscript"),
    ("ត្ថ", "ត", "km_final_subscript"), ("ទ្ធ", "ទ", "km_final_subscript"),
    ("ុ", "ូ", "km_vowel_length"), ("ិ", "ី", "km_vowel_length"), ("ី", "ិ", "km_vowel_length"),
    ("ួ", "ូ", "km_vowel_length"),
]  # fmt: skip
ORIGIN_PROVINCES = {"14": 4, "20": 4, "03": 3, "21": 2, "06": 2, "05": 1, "22": 1}
START = date(2023, 6, 1)
TAGS_NEG = ("cousin", "sister", "bar_phone", "common_name", "other")


def _zipf(rng: random.Random, n: int, s: float = 1.0) -> int:
    return rng.choices(range(n), weights=[1 / (i + 1) ** s for i in range(n)])[0]


def _phone(rng: random.Random) -> str:
    p = rng.choice(["011", "012", "017", "061", "070", "076", "081", "086", "087", "093",
                    "096", "097", "010", "015", "016", "069", "098"])  # fmt: skip
    return p + "".join(rng.choice(string.digits) for _ in range(7 if p in ("096", "097") else 6))


def _write_phone(rng: random.Random, phone: str) -> tuple[str, str | None]:
    """Every written form (issue 12)."""
    r = rng.random()
    if r < 0.15:
        return phone.translate(KM_DIGITS), "phone_form"
    if r < 0.3:
        return f"+855 {phone[1:3]} {phone[3:6]} {phone[6:]}", "phone_form"
    if r < 0.4:
        return f"855{phone[1:]}", "phone_form"
    if r < 0.5:
        return f"{phone[:3]}-{phone[3:6]}-{phone[6:]}", "phone_form"
    if r < 0.55:
        return f"(+855) 0{phone[1:3]} {phone[3:]}", "phone_form"
    return phone, None


@dataclass
class Person:
    pid: int
    family: int
    given: int
    birth: date
    village: str
    phone: str | None
    owner: str
    workplace: int
    nick: str
    code: str
    kind: str = "person"  # person | cousin | sister


@dataclass
class Record:
    intake: Intake
    tags: set[str] = field(default_factory=set)
    kind: str = "person"


class FieldGenerator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rows = load_villages()
        self.names_en = {c: en for c, _km, en in rows}
        self.by_district: dict[str, list[str]] = defaultdict(list)
        by_prov: dict[str, list[str]] = defaultdict(list)
        for c, _km, _en in rows:
            by_prov[c[:2]].append(c)
            self.by_district[c[:4]].append(c)
        self.catch: dict[str, list[str]] = {}
        for prov in ORIGIN_PROVINCES:
            communes = sorted({v[:6] for v in by_prov[prov]})
            keep = set(self.rng.sample(communes, min(15, len(communes))))
            self.catch[prov] = [v for v in by_prov[prov] if v[:6] in keep]
        self.bar_phone = {w: _phone(self.rng) for w in range(60)}

    def person(self, pid: int) -> Person:
        rng = self.rng
        owner = rng.choices(["own", "family", "bar_as_own", "employer", "none"],
                            weights=[58, 10, 6, 10, 16])[0]  # fmt: skip
        w = rng.randrange(60)
        phone = self.bar_phone[w] if owner in ("bar_as_own", "employer") else (
            _phone(rng) if owner != "none" else None)  # fmt: skip
        prov = rng.choices(list(ORIGIN_PROVINCES), weights=list(ORIGIN_PROVINCES.values()))[0]
        return Person(pid, _zipf(rng, len(FAMILY)), _zipf(rng, len(GIVEN), 0.9),
                      START - timedelta(days=int(rng.uniform(17, 35) * 365.25)),
                      rng.choice(self.catch[prov]), phone, owner, w, rng.choice(NICKS),
                      "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(6))
                      + "-" + rng.choice("ABCDEFGH"))  # fmt: skip

    def relative(self, pid: int, of: Person, kind: str) -> Person:
        rng = self.rng
        p = self.person(pid)
        p.kind, p.family, p.village = kind, of.family, of.village
        p.birth = of.birth + timedelta(days=rng.choice([-1, 1]) * rng.randint(730, 2190))
        if kind == "cousin":  # named after the same grandmother
            p.given = of.given
        else:
            while p.given == of.given:
                p.given = _zipf(rng, len(GIVEN), 0.9)
            if of.owner == "family":
                p.phone, p.owner = of.phone, "family"
            if rng.random() < 0.5:
                p.workplace = of.workplace
        return p

    # --- one registration -------------------------------------------------------------------
    def _names(self, p: Person, a: dict, tags: set[str], repeat: bool) -> None:
        rng = self.rng
        fam_km, fam_lat = FAMILY[p.family]
        giv_km, giv_lat = GIVEN[p.given]
        lat_g = rng.choice(giv_lat) if repeat else giv_lat[0]
        lat_f = rng.choice(fam_lat) if repeat else fam_lat[0]
        if repeat and rng.random() < 0.3:
            for pat, rep, tag in rng.sample(KM_VARIANTS, len(KM_VARIANTS)):
                if pat in giv_km:
                    giv_km = giv_km.replace(pat, rep, 1)
                    tags.add(tag)
                    break
        script = rng.random()
        if repeat and script < 0.08:
            tags.add("nickname_only")
            a["nicknames"] = p.nick
            return
        km_only, lat_only = script < 0.22, 0.22 <= script < 0.36
        if repeat and (km_only or lat_only):
            tags.add("script_only")
        if not lat_only:
            a["family_name_km"], a["given_name_km"] = fam_km, giv_km
        if not km_only:
            a["name_latin"] = rng.choice([f"{lat_f} {lat_g}", f"{lat_g} {lat_f}", lat_g.upper()])
        if repeat:
            r = rng.random()
            if r < 0.1 and not lat_only:
                a["family_name_km"], a["given_name_km"] = lat_f, lat_g  # Latin in Khmer boxes
                tags.add("latin_in_khmer_field")
            elif r < 0.2 and not lat_only:
                a["family_name_km"], a["given_name_km"] = None, f"{fam_km} {giv_km}"
                tags.add("whole_name_one_field")
            elif r < 0.3 and not lat_only:
                a["family_name_km"], a["given_name_km"] = giv_km, fam_km
                tags.add("swapped_fields")
        if rng.random() < 0.35:
            a["nicknames"] = p.nick

    def _age(self, p: Person, when: date, a: dict, tags: set[str], repeat: bool) -> None:
        rng = self.rng
        age = (when - p.birth).days // 365
        r = rng.random()
        if r < 0.25:
            d = p.birth
            if repeat and rng.random() < 0.3 and d.day <= 12 and d.day != d.month:
                d = date(d.year, d.day, d.month)
                tags.add("dob_day_month_swap")
            a.update(dob_known="yes", dob=d.isoformat(), age_source="id_card")
            return
        src = rng.choices(["self_report", "collector_estimate", "id_card"], weights=[6, 3, 1])[0]
        err = 0
        if src == "self_report" and repeat and rng.random() < 0.35:
            err = rng.choice([-3, -2, 2, 3])
            tags.add("age_drift")
        elif src == "self_report":
            err = rng.choice([0, 0, 1, -1])
        elif src == "collector_estimate":
            err = rng.randint(-3, 3)
            if repeat:
                tags.add("age_estimate")
        stated = str(max(13, age + err))
        a.update(dob_known="no", age_stated=stated.translate(KM_DIGITS) if rng.random() < 0.15
                 else stated, age_source=src)  # fmt: skip

    def _origin(self, p: Person, a: dict, tags: set[str], repeat: bool) -> None:
        rng = self.rng
        v = p.village
        r = rng.random() if repeat else 1.0
        if r < 0.08:
            others = [x for x in self.by_district[v[:4]] if x[:6] != v[:6]]
            if others:
                v = rng.choice(others)
                tags.add("origin_other_commune")
        elif r < 0.14:
            a["origin_province"], a["origin_district"] = v[:2], v[:4]
            tags.add("origin_district_only")
            return
        elif r < 0.2:
            a.update(origin_commune=v[:6], origin_village="unk-" + v[:6],
                     origin_village_text=rng.choice(["Phum Thmei", "ភូមិចាស់", "Kandal"]))
            tags.add("origin_not_listed")
            return
        elif r < 0.25:
            return
        a.update(origin_village=v, origin_province=v[:2], origin_district=v[:4],
                 origin_commune=v[:6])  # fmt: skip

    def _phone(self, p: Person, a: dict, tags: set[str], repeat: bool) -> None:
        rng = self.rng
        if p.phone is None:
            a["phone_owner"] = "none"
            return
        phone = p.phone
        owner = {"bar_as_own": "own"}.get(p.owner, p.owner)
        if repeat and p.owner in ("own", "family") and rng.random() < 0.3:
            phone = _phone(rng)
            tags.add("new_sim")
        text, form = _write_phone(rng, phone)
        if form and repeat:
            tags.add(form)
        a.update(phone=text, phone_owner=owner)

    def intake(self, p: Person, when: date, rid: str, repeat: bool) -> Record:
        rng = self.rng
        tags: set[str] = set()
        a: dict[str, str | None] = {"consent": "yes", "pe_code": f"PE{rng.randint(1, 30):02d}"}
        self._names(p, a, tags, repeat)
        self._age(p, when, a, tags, repeat)
        self._origin(p, a, tags, repeat)
        self._phone(p, a, tags, repeat)
        a["member_code"] = p.code if (not repeat or rng.random() < 0.1) else None
        a["workplace"] = f"w{p.workplace if not (repeat and rng.random() < 0.5) else rng.randrange(60)}"
        a["is_minor"] = "yes" if (when - p.birth).days < 18 * 365.25 else "no"
        return Record(Intake(p.pid, rid, when, a), tags, p.kind)

    def dataset(self, n: int) -> list[Record]:
        rng = self.rng
        out: list[Record] = []
        pid = 0
        while len(out) < n:
            p = self.person(pid)
            pid += 1
            first = START + timedelta(days=rng.randrange(600))
            times = [first] + [first + timedelta(days=rng.randint(30, 500))
                               for _ in range(rng.choices([0, 1, 2], weights=[78, 19, 3])[0])]  # fmt: skip
            for i, t in enumerate(times):
                out.append(self.intake(p, t, f"r{len(out)}", repeat=i > 0))
            if rng.random() < 0.12:
                kind = "cousin" if rng.random() < 0.4 else "sister"
                q = self.relative(pid, p, kind)
                pid += 1
                out.append(self.intake(q, first + timedelta(days=rng.randint(0, 300)),
                                       f"r{len(out)}", repeat=False))  # fmt: skip
        out = out[:n]
        out.sort(key=lambda r: r.intake.intake)
        return out


# --- replay and report --------------------------------------------------------------------------
@dataclass
class Tally:
    true: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    neg_queued: Counter[str] = field(default_factory=Counter)
    neg_strong: Counter[str] = field(default_factory=Counter)
    tag_queued: Counter[str] = field(default_factory=Counter)  # queued pairs carrying the tag
    tag_queued_true: Counter[str] = field(default_factory=Counter)
    tag_strong: Counter[str] = field(default_factory=Counter)
    tag_strong_true: Counter[str] = field(default_factory=Counter)
    tag_wrong_auto: Counter[str] = field(default_factory=Counter)
    queued: int = 0
    queued_true: int = 0
    strong: int = 0
    strong_true: int = 0
    auto: int = 0
    wrong_auto: int = 0


def _script(r: Record) -> str:
    a = r.intake.answers
    km = bool(a.get("family_name_km") or a.get("given_name_km"))
    return "km" if km and not a.get("name_latin") else ("lat" if a.get("name_latin") and not km
                                                        else "both")  # fmt: skip


def pair_tags(a: Record, b: Record) -> set[str]:
    """Variations a pair carries: those of its two records, and one of the pair itself (one
    record in Khmer only, the other in Latin only)."""
    tags = {"all", *a.tags, *b.tags}
    if {_script(a), _script(b)} == {"km", "lat"}:
        tags.add("khmer_only_vs_latin_only")
    return tags


def _same_name(a: Record, b: Record) -> bool:
    x, y = a.intake.answers, b.intake.answers
    return bool(x.get("given_name_km")) and all(
        x.get(f) == y.get(f) for f in ("family_name_km", "given_name_km"))


def _neg_kind(a: Record, b: Record, phone_of: dict[str, str | None]) -> str:
    kinds = {a.kind, b.kind}
    if "cousin" in kinds and a.intake.answers.get("given_name_km") == b.intake.answers.get(
        "given_name_km"
    ):
        return "cousin"
    if "sister" in kinds:
        return "sister"
    pa, pb = phone_of[a.intake.rid], phone_of[b.intake.rid]
    if pa and pa == pb:
        return "bar_phone"
    return "common_name" if _same_name(a, b) else "other"


def replay(data: list[Record], judge=None) -> Tally:
    """The database's candidate selection (see linkage_quality.run), then judge each pair."""
    judge = judge or _matcher
    resolver = make_village_resolver(load_villages())
    recs = {r.intake.rid: MemberRecord.from_answers(r.intake.answers, r.intake.intake,
                                                    record_id=r.intake.rid,
                                                    village_resolver=resolver)
            for r in data}  # fmt: skip
    by_rid = {r.intake.rid: r for r in data}
    phone_of = {rid: m.phone for rid, m in recs.items()}
    t = Tally()
    by_pid: dict[int, list[str]] = defaultdict(list)
    for r in data:
        for other in by_pid[r.intake.pid]:
            for tag in pair_tags(r, by_rid[other]):
                t.true[tag] += 1
        by_pid[r.intake.pid].append(r.intake.rid)
    index: dict[str, list[str]] = defaultdict(list)
    for r in data:
        rec = recs[r.intake.rid]
        keys = set(blocking_keys(rec))
        hits = {k: [c for c in index.get(k, []) if k.startswith("mc:") or
                    birth_years_compatible(recs[c].keys.birth_years, rec.keys.birth_years)]
                for k in keys if len(index.get(k, [])) <= MAX_KEY_CANDIDATES}  # fmt: skip
        counts = {k: len(index.get(k, ())) for k in keys}
        for c in rank_candidates(hits, counts, MAX_SCORED_CANDIDATES):
            decision, band = judge(recs[c], rec, counts)
            if decision is Decision.NONE:
                continue
            other = by_rid[c]
            same = other.intake.pid == r.intake.pid
            tags = pair_tags(r, other)
            if same:
                for tag in tags:
                    t.found[tag] += 1
            if decision is Decision.AUTO_LINK:
                t.auto += 1
                t.wrong_auto += not same
                for tag in tags:
                    t.tag_wrong_auto[tag] += not same
                continue
            for tag in tags:
                t.tag_queued[tag] += 1
                t.tag_queued_true[tag] += same
                t.tag_strong[tag] += band == "strong"
                t.tag_strong_true[tag] += same and band == "strong"
            t.queued += 1
            t.queued_true += same
            t.strong += band == "strong"
            t.strong_true += same and band == "strong"
            if not same:
                kind = _neg_kind(r, other, phone_of)
                t.neg_queued[kind] += 1
                t.neg_strong[kind] += band == "strong"
        for k in keys:
            index[k].append(r.intake.rid)
    return t


def _matcher(a: MemberRecord, b: MemberRecord, counts: dict[str, int]) -> tuple[Decision, str]:
    result = score_members(a, b, key_counts=counts)
    return decide(a, b, result), result.band


def _exact(a: MemberRecord, b: MemberRecord, counts: dict[str, int]) -> tuple[Decision, str]:
    """Baseline: the same card links; the same phone or the same typed Latin name queues."""
    if a.member_code and a.member_code == b.member_code:
        return Decision.AUTO_LINK, "strong"
    same_name = a.name_latin and (a.name_latin or "").casefold() == (b.name_latin or "").casefold()
    if (a.phone and a.phone == b.phone) or same_name:
        return Decision.REVIEW, "possible"
    return Decision.NONE, "none"


def _ratio(x: int, n: int) -> str:
    return f"{x / n:.3f}" if n else "-"


def report(results: dict[int, tuple[Tally, Tally]], n: int) -> str:
    seeds = sorted(results)
    lines = [f"# Field-variation linkage benchmark ({n} records per seed)", "",
             "| seed | recall | queue precision (queued) | strong precision (strong) "
             "| wrong auto merges | baseline recall | baseline queue precision |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for s in seeds:
        t, b = results[s]
        lines.append(
            f"| {s} | {_ratio(t.found['all'], t.true['all'])} | {_ratio(t.queued_true, t.queued)} "
            f"({t.queued}) | {_ratio(t.strong_true, t.strong)} ({t.strong}) | {t.wrong_auto} | "
            f"{_ratio(b.found['all'], b.true['all'])} | {_ratio(b.queued_true, b.queued)} |"
        )
    tags = sorted({k for t, _ in results.values() for k in t.true} - {"all"})
    lines += ["", "Per variation, all seeds together (a pair carries every variation of its two "
              "records): true pairs, recall; queued pairs carrying it and their precision; "
              "strong-band precision; wrong automatic merges; the exact baseline's recall and "
              "queue precision.", "",
              "| variation | true pairs | recall | queued | queue precision | strong precision "
              "(strong) | wrong auto | baseline recall | baseline queue precision |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip

    def total(i: int, attr: str, tag: str) -> int:
        return sum(getattr(results[s][i], attr)[tag] for s in seeds)

    for tag in tags:
        tt = total(0, "true", tag)
        st = total(0, "tag_strong", tag)
        lines.append(
            f"| {tag} | {tt} | {_ratio(total(0, 'found', tag), tt)} | {total(0, 'tag_queued', tag)} "
            f"| {_ratio(total(0, 'tag_queued_true', tag), total(0, 'tag_queued', tag))} "
            f"| {_ratio(total(0, 'tag_strong_true', tag), st)} ({st}) "
            f"| {total(0, 'tag_wrong_auto', tag)} | {_ratio(total(1, 'found', tag), tt)} "
            f"| {_ratio(total(1, 'tag_queued_true', tag), total(1, 'tag_queued', tag))} |")
    lines += ["", "Wrong pairs by kind, all seeds: in the queue (of which strong).", "",
              "| kind | queued | strong |", "|---|---:|---:|"]  # fmt: skip
    for kind in TAGS_NEG:
        q = sum(results[s][0].neg_queued[kind] for s in seeds)
        st = sum(results[s][0].neg_strong[kind] for s in seeds)
        lines.append(f"| {kind} | {q} | {st} |")
    return "\n".join(lines) + "\n"


def sweep(datasets: list[list[Record]], thresholds: list[float]) -> str:
    """Recall and queue precision at other queue thresholds (the same pairs, scored once)."""
    from server.sync.match import result as result_mod

    saved = result_mod.POSSIBLE_WEIGHT
    result_mod.POSSIBLE_WEIGHT = -1e9  # every pair the guards let through, with its weight
    rows: list[tuple[float, bool, bool]] = []
    true_total = 0
    try:
        for data in datasets:
            pid = {r.intake.rid: r.intake.pid for r in data}

            def judge(a: MemberRecord, b: MemberRecord, counts: dict[str, int]) -> tuple[Decision, str]:
                res = score_members(a, b, key_counts=counts)
                d = decide(a, b, res)
                if d is not Decision.NONE:
                    rows.append((res.weight, pid[a.record_id] == pid[b.record_id],  # noqa: B023
                                 d is not Decision.REVIEW))  # fmt: skip
                return Decision.NONE, "none"

            true_total += replay(data, judge).true["all"]
    finally:
        result_mod.POSSIBLE_WEIGHT = saved
    lines = ["", "| queue threshold | recall | queue precision (queued) |", "|---:|---:|---:|"]
    for t in thresholds:
        found = sum(1 for w, same, forced in rows if same and (forced or w >= t))
        queue = [same for w, same, forced in rows if not forced and w >= t]
        lines.append(f"| {t} | {_ratio(found, true_total)} | {_ratio(sum(queue), len(queue))} "
                     f"({len(queue)}) |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--seeds", default="11,12,13")
    ap.add_argument("--sweep", default="", help="also report these queue thresholds, e.g. 6,7,8")
    args = ap.parse_args(argv)
    results = {}
    datasets = []
    for seed in (int(s) for s in args.seeds.split(",")):
        data = FieldGenerator(seed).dataset(args.records)
        datasets.append(data)
        results[seed] = (replay(data), replay(data, _exact))
    md = report(results, args.records)
    if args.sweep:
        md += sweep(datasets, [float(t) for t in args.sweep.split(",")])
    md += f"\n`python bench/linkage_field.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n"
    print(md)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
