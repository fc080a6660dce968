"""A member record for matching: the identifying answers of one intake, and the keys derived
from them once (normalised names, birth-year bounds, place codes, own phone)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from server.sync.match.dates import (
    BE_THRESHOLD,
    birth_is_estimated,
    birth_is_reliable,
    birth_year_bounds,
)
from server.sync.match.khmer import khmer_skeleton, name_frames, romanise
from server.sync.match.normalise import (
    KHMER_DIGITS,
    KHMER_RE,
    coarse_parts,
    khmer_tokens,
    latin_coarse_key,
    latin_joined_keys,
    latin_tokens,
    normalise_phone,
    strip_khmer_srey,
    strip_latin_srey,
)
from server.sync.match.places import VillageResolver

_OWN_PHONE_TYPES = frozenset({"own", "family"})
_SREY_SKELETON = "SRi"
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
        return date.fromisoformat(value.translate(KHMER_DIGITS)[:10])
    except ValueError:
        return None


def _parse_int(value: str | None) -> int | None:
    value = _clean(value)
    if not value:
        return None
    try:
        return int(value.translate(KHMER_DIGITS))
    except ValueError:
        return None


def _split_nicknames(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    parts = re.split(r"[,;/\u17d4\u17d5\u060c]+", value)
    return tuple(p.strip() for p in parts if p.strip())


def romanised(token: str) -> str:
    """A Khmer token as Latin phonetic key (khmer.romanise, then the 4.3 Latin rules)."""
    toks = latin_tokens(romanise(token)) if KHMER_RE.search(token) else latin_tokens(token)
    return "".join(toks)


def _frames(tokens: tuple[str, ...]) -> frozenset[str]:
    """Consonant frames of the whole name (every order), never of one token alone: sharing
    only a family name is not a similar name."""
    return name_frames(tokens, whole=True)


def _romanised_frames(tokens: tuple[str, ...]) -> frozenset[str]:
    """Frames of Khmer tokens read as one romanised name (any order), "Srey" dropped."""
    if not tokens:
        return frozenset()
    return name_frames(strip_latin_srey(tuple(romanised(t) for t in tokens)), whole=True)


def _given_skeleton(tokens: tuple[str, ...]) -> str | None:
    """Skeleton of the given name with a leading "Srey" (``SRi``) dropped, so that a vowel
    variant inside ស្រី itself (ស្រិ) does not hide it."""
    skel = "".join(khmer_skeleton(t) for t in tokens)
    if skel.startswith(_SREY_SKELETON) and len(skel) > len(_SREY_SKELETON) + 1:
        skel = skel[len(_SREY_SKELETON) :]
    return skel or None


def _split_scripts(text: str | None) -> tuple[tuple[str, ...], str]:
    """Khmer tokens of a box, and whatever Latin was typed in it (issue 12: Latin in a Khmer
    field, Khmer in the Latin field)."""
    if not text:
        return (), ""
    khmer = tuple(t for t in khmer_tokens(text) if KHMER_RE.search(t))
    latin = " ".join(t for t in re.split(r"\s+", text) if t and not KHMER_RE.search(t))
    return khmer, latin


def _name_fields(
    family_km: str | None, given_km: str | None, latin: str | None
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(Khmer given, Khmer family, Latin tokens) with each script moved to its own pool.

    Khmer typed in the Latin box counts as a Khmer name whose boxes are unknown (all given);
    Latin typed in a Khmer box joins the Latin name, unless the same token is there already.
    """
    fam, fam_lat = _split_scripts(family_km)
    giv, giv_lat = _split_scripts(given_km)
    lat_km, lat_text = _split_scripts(latin)
    if lat_km and not (fam or giv):
        giv = lat_km
    tokens = list(latin_tokens(lat_text))
    for extra in (fam_lat, giv_lat):
        tokens += [t for t in latin_tokens(extra) if t not in tokens]
    return giv, fam, tuple(tokens)


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
    translit: tuple[str, ...]  # romanised Khmer name (khmer.romanise), phonetic tokens, weak
    translit_parts: frozenset[str]
    km_given_skel: str | None  # khmer.khmer_skeleton of the given name
    km_full_skel: tuple[str, ...]  # skeletons of every Khmer token, sorted
    latin_frames: frozenset[str]  # khmer.latin_frame of each Latin token and joined key
    translit_frames: frozenset[str]  # the same for the romanised Khmer
    latin_part_frames: frozenset[str]  # frames of each Latin token and every join of them
    translit_given_frames: frozenset[str]  # frames of the romanised Khmer given name
    translit_family_frames: frozenset[str]  # frames of the romanised Khmer family name
    nicknames: frozenset[str]  # coarse keys
    birth_years: tuple[int, int] | None
    birth_reliable: bool  # from a written date or a document, not a self-report or estimate
    birth_estimated: bool  # a collector's estimate (or an age of unknown source)
    birth_mid: float | None  # the year the answer points at (middle of the bounds)
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
        if dob is not None and dob.year < BE_THRESHOLD:
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
        names = _name_fields(self.family_name_km, self.given_name_km, self.name_latin)
        given, family, lat_raw = names
        given_s = strip_khmer_srey(given)
        full_seq = family + given
        full_s = strip_khmer_srey(full_seq)
        lat = strip_latin_srey(lat_raw)
        coarse_tokens = tuple(latin_coarse_key(t) for t in lat)
        joined = latin_joined_keys(lat)
        translit = strip_latin_srey(tuple(romanised(t) for t in full_seq)) if full_seq else ()
        nick: set[str] = set()
        for n in self.nicknames:
            toks = strip_latin_srey(latin_tokens(n))
            if toks:
                nick.add(latin_coarse_key("".join(toks)))
        village = self.origin_village or self._resolved_village
        commune = self.origin_commune or (village[:6] if village else None)
        district = self.origin_district or (commune[:4] if commune else None)
        province = self.origin_province or (district[:2] if district else None)
        years = birth_year_bounds(
            self.dob, self.age_stated, self.age_source, self.intake_date, self.zodiac
        )
        return MemberKeys(
            km_given="".join(given_s) if given_s else None,
            km_given_tokens=given_s,
            km_family_tokens=family,
            km_full=tuple(sorted(full_s)),
            km_full_seq=full_seq,
            latin=lat,
            latin_joined=joined,
            latin_coarse_tokens=coarse_tokens,
            latin_coarse_joined=frozenset(latin_coarse_key(k) for k in joined),
            latin_coarse_parts=coarse_parts(lat),
            translit=translit,
            translit_parts=coarse_parts(translit),
            km_given_skel=_given_skeleton(given),
            km_full_skel=tuple(sorted(_given_skeleton((t,)) or "" for t in full_seq)),
            latin_frames=_frames(lat),
            translit_frames=_frames(translit),
            latin_part_frames=name_frames(lat),
            translit_given_frames=_romanised_frames(given),
            translit_family_frames=_romanised_frames(family),
            nicknames=frozenset(nick),
            birth_years=years,
            birth_reliable=birth_is_reliable(self.dob, self.age_source),
            birth_estimated=birth_is_estimated(self.dob, self.age_source),
            birth_mid=(years[0] + years[1]) / 2 if years else None,
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
