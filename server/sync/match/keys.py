"""Blocking keys (which stored records a new one is compared with) and candidate ranking.

A record is stored under its keys in an indexed table; a new record looks up its own keys, and
the candidates sharing the most and the rarest keys are scored. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from server.sync.match.normalise import latin_coarse_key
from server.sync.match.records import MemberRecord

_T = TypeVar("_T")

#: A database should ignore a blocking key that already points at more than
#: however large the table grows. The other keys of the record still apply.
MAX_KEY_CANDIDATES = 40

_BUCKET_YEARS = 5
_NO_AGE_FIRST_YEAR = 1950


def year_buckets(rec: MemberRecord) -> tuple[str, ...]:
    bounds = rec.keys.birth_years
    lo, hi = bounds if bounds else (_NO_AGE_FIRST_YEAR, rec.intake_date.year)
    return tuple(f"y{b * _BUCKET_YEARS}" for b in range(lo // 5, hi // 5 + 1))


def blocking_keys(record: MemberRecord) -> frozenset[str]:
    """Keys under which a record is stored and looked up.

    Name, origin and workplace keys are combined with a five-year birth
    bucket. Because disjoint birth-year bounds are a veto, two records that
    could ever be proposed share a bucket, so the bucket costs no recall while
    dividing each key's population by ~6. Phone, member code and the full
    Khmer name are selective enough alone. A bare commune or workplace key
    would hit every woman from there, hence the bucket.

    * ``mc:`` member code (the only automatic link must be found);
    * ``kn:`` sorted Khmer family+given tokens (order-free, example 10);
    * ``km:`` Khmer given name | bucket;
    * ``ks:`` phonetic skeleton of the Khmer given name (:mod:`.khmer`) | bucket, so that
      spellings differing in a subscript, a final or a vowel length meet (ល័ក / ល័ក្ខ);
    * ``lc:`` coarse joined Latin key of the name and of each part of it,
      every order, plus nicknames and the romanised form of a Khmer-only
      name | bucket (family name omitted on one side, "Sok Kha" ↔ "Sokha",
      nickname-only records);
    * ``ph:`` own or family phone (employer/shared phones are not keys);
    * ``oc:`` origin commune | bucket; ``wp:`` workplace | bucket;
    * ``nd:`` a name | origin district | bucket (:func:`district_name_keys`): the name keys
      above become stop keys as the table grows (at 10,000 records a common name's key holds
      more than ``MAX_KEY_CANDIDATES`` records and is skipped), the district narrows them
      back, and it survives another commune of the district, the district alone and a village
      not in the list (issue 12).
    """
    k = record.keys
    buckets = year_buckets(record)
    keys: set[str] = set()
    if record.member_code:
        keys.add("mc:" + record.member_code)
    if k.km_full:
        keys.add("kn:" + "|".join(k.km_full))
    if k.phone:
        keys.add("ph:" + k.phone)
    per_bucket: set[str] = set()
    if k.km_given:
        per_bucket.add("km:" + k.km_given)
    if k.km_given_skel and len(k.km_given_skel) >= 2:
        per_bucket.add("ks:" + k.km_given_skel)
    translit = k.translit_parts if not k.latin else frozenset()
    for part in k.latin_coarse_parts | translit | k.nicknames:
        if len(part) >= 2:
            per_bucket.add("lc:" + part)
    if k.commune:
        per_bucket.add("oc:" + k.commune)
    per_bucket.update(district_name_keys(record))
    if record.workplace:
        per_bucket.add("wp:" + record.workplace)
    keys.update(f"{p}|{b}" for p in per_bucket for b in buckets)
    return frozenset(keys)


def district_name_keys(record: MemberRecord) -> set[str]:
    """``nd:`` keys of a record with a known origin district (no birth bucket yet).

    * ``k`` the Khmer name as sorted token skeletons (:mod:`.khmer`): box order, subscripts,
      finals and vowel length do not matter; the whole name, and the given name alone so that
      a family name left out still meets;
    * ``l`` the Latin name as sorted coarse tokens, or the romanised Khmer when the record
      has no Latin (Khmer-only ↔ Latin-only), whole and each token; and each nickname.
    """
    k = record.keys
    if not k.district:
        return set()
    names: set[str] = set()
    skel = [s for s in k.km_full_skel if len(s) >= 2]
    if skel:
        names.add("k" + "+".join(skel))
    if k.km_given_skel and len(k.km_given_skel) >= 2:
        names.add("k" + k.km_given_skel)
    latin = k.latin_coarse_tokens or tuple(latin_coarse_key(t) for t in k.translit)
    latin = tuple(t for t in latin if len(t) >= 2)
    if latin:
        names.add("l" + "+".join(sorted(latin)))
        names.update("l" + t for t in latin)
    names.update("l" + n for n in k.nicknames if len(n) >= 2)
    return {f"nd:{n}|{k.district}" for n in names}


#: At most this many blocking candidates are scored per new record (the ones
#: sharing the most, and the rarest, keys with it). With the stop keys this
#: bounds the per-intake work whatever the size of the table.
MAX_SCORED_CANDIDATES = 30

_BUCKET_SUFFIX_RE = re.compile(r"\|y\d+$")


def birth_years_compatible(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    """False only when both bounds are known and disjoint: :func:`score_members`
    vetoes such a pair (``birth_years_disjoint``), so a database may drop it
    before loading it (except for the same member_code, which :func:`decide`
    still sends to review)."""
    return a is None or b is None or not (a[1] < b[0] or b[1] < a[0])


def rank_candidates(
    hits: Mapping[str, Iterable[_T]],
    key_counts: Mapping[str, int] | None = None,
    limit: int | None = MAX_SCORED_CANDIDATES,
) -> list[_T]:
    """Blocking candidates in the order they are worth scoring, at most ``limit``.

    ``hits`` maps each usable (non-stop) key of the new record to the candidates
    stored under it; ``key_counts`` to how many records the key holds (its
    rarity; default: the hits). Candidates sharing a ``mc:`` key (the same card)
    always come first. Then by the number of distinct keys shared, a key being
    counted once over its birth buckets (``km:X|y1990`` and ``km:X|y1995`` are
    one name), then by the rarity of those keys (sum of 1/count), then by id so
    the order is stable.
    """
    families: dict[_T, dict[str, float]] = {}
    pinned: set[_T] = set()
    for key, ids in hits.items():
        ids = list(ids)
        if not ids:
            continue
        count = (key_counts or {}).get(key) or len(ids)
        weight = 1.0 / max(1, count)
        family = _BUCKET_SUFFIX_RE.sub("", key)
        mc = key.startswith("mc:")
        for i in ids:
            fam = families.setdefault(i, {})
            if fam.get(family, 0.0) < weight:
                fam[family] = weight
            if mc:
                pinned.add(i)
    ranked = sorted(
        families,
        key=lambda i: (i not in pinned, -len(families[i]), -sum(families[i].values()), str(i)),
    )
    return ranked if limit is None else ranked[: max(limit, len(pinned))]
