"""Workplace matching: name keys without generic words, blocking keys (village, commune+name,
phone, 50 m grid), and the score of two workplaces. Pure functions."""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from server.sync.match.normalise import (
    NON_LETTER_RE,
    khmer_tokens,
    latin_coarse_key,
    latin_tokens,
    normalise_phone,
)
from server.sync.match.result import (
    BAND_NONE,
    BAND_POSSIBLE,
    BAND_STRONG,
    SCORE_SCALE,
    Decision,
    MatchResult,
)

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
    kept = " ".join(w for w in NON_LETTER_RE.split(latin_text) if w not in WORKPLACE_GENERIC_LATIN)
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


def _name_evidence(ka: WorkplaceKeys, kb: WorkplaceKeys) -> str | None:
    if (ka.khmer & kb.khmer) or (ka.latin & kb.latin):
        return "name_equal"
    best = 0.0
    for x, y in itertools.chain(
        itertools.product(ka.khmer, kb.khmer), itertools.product(ka.latin, kb.latin)
    ):
        best = max(best, fuzz.ratio(x, y))
    if best >= 85:
        return "name_similar"
    cross = 0.0
    for x, y in itertools.chain(
        itertools.product(ka.translit, kb.latin), itertools.product(ka.latin, kb.translit)
    ):
        cross = max(cross, fuzz.ratio(x, y))
    if cross >= 70:
        return "name_translit_similar"
    if (ka.khmer and kb.khmer) or (ka.latin and kb.latin):
        return "name_differs"
    return None


def _distance_evidence(dist: float | None) -> str | None:
    if dist is None:
        return None
    if dist <= 50:
        return "distance_le_50m"
    if dist <= 200:
        return "distance_le_200m"
    return "distance_gt_1km" if dist > 1000 else None


def _place_evidence(
    ka: WorkplaceKeys, kb: WorkplaceKeys, dist: float | None
) -> tuple[str | None, str | None]:
    """(evidence, veto): the same name in different communes is a different place, unless the
    two points are within 50 m (a commune border runs through the street)."""
    if ka.village and ka.village == kb.village:
        return "village_equal", None
    if ka.commune and ka.commune == kb.commune:
        return "commune_equal", None
    if ka.commune and kb.commune and not (dist is not None and dist <= 50):
        return None, "different_commune"
    return None, None


def score_workplaces(a: WorkplaceRecord, b: WorkplaceRecord) -> MatchResult:
    """Compare two workplaces. The same name in different communes is a
    different place; renamed bars are caught by spot, phone and owner."""
    ka, kb = a.keys, b.keys
    dist = _distance_m(a.geopoint, b.geopoint) if a.geopoint and b.geopoint else None
    place, veto = _place_evidence(ka, kb, dist)
    ev = [c for c in (
        _name_evidence(ka, kb),
        place,
        "phone_equal" if ka.phones & kb.phones else None,
        "owner_equal" if ka.owner and ka.owner == kb.owner else None,
        _distance_evidence(dist),
    ) if c]  # fmt: skip
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
        score=round(max(0.0, min(1.0, weight / SCORE_SCALE)), 3),
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

