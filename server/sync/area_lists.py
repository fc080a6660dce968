"""The lists that say where a collector works, cut to the account's area (issue 9 item 1,
domain.md 1.1-1.2): ``area_communes.csv`` and ``area_villages.csv``.

A village account gets its own communes and their villages (a few KB instead of the national
966 KB villages.csv). A peer educator gets the communes and villages of the provinces her
communes are in (province 18, Preah Sihanouk, for the programme's accounts), where her
workplace visits happen. The origin questions of member_intake keep the national lists:
a woman's home village can be anywhere in Cambodia.

Both are built from the packaged gazetteer (no database read) once per process and account
area; their manifest hash is the MD5 of the bytes (what Collect compares), so it changes
exactly when this collector's list changes, and a manifest or a 304 builds nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from functools import lru_cache

from server.db.models import Collector, CollectorRole
from server.xforms.gazetteer import Commune, choice_label, load_gazetteer

AREA_COMMUNES = "area_communes.csv"
AREA_VILLAGES = "area_villages.csv"
AREA_LISTS = frozenset({AREA_COMMUNES, AREA_VILLAGES})
COMMUNES_HEADER = ("name", "label", "district", "province")
VILLAGES_HEADER = ("name", "label", "commune")


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def area_communes(role: CollectorRole | str, commune_codes: Sequence[str]) -> list[Commune]:
    """The communes a collector's lists hold: her own (village), or all of her provinces'."""
    gaz = load_gazetteer()
    own = set(commune_codes)
    if CollectorRole(role) == CollectorRole.VILLAGE:
        return [c for c in gaz.communes if c.code in own]
    provinces = {c.province_code for c in gaz.communes if c.code in own}
    return [c for c in gaz.communes if c.province_code in provinces]


def area_communes_csv(collector: Collector) -> bytes:
    return _area_bytes(AREA_COMMUNES, str(collector.role), tuple(sorted(collector.commune_codes)))


def area_villages_csv(collector: Collector) -> bytes:
    return _area_bytes(AREA_VILLAGES, str(collector.role), tuple(sorted(collector.commune_codes)))


def area_hash(collector: Collector, filename: str) -> str:
    """Manifest hash of an area list: the MD5 of its bytes (Collect compares it with the file it
    holds), from the same per-process cache, so a manifest or a 304 costs no list building."""
    return _area_md5(filename, str(collector.role), tuple(sorted(collector.commune_codes)))


@lru_cache(maxsize=512)
def _area_md5(filename: str, role: str, communes: tuple[str, ...]) -> str:
    return hashlib.md5(_area_bytes(filename, role, communes), usedforsecurity=False).hexdigest()


# The bytes depend only on (list, role, communes) and the packaged gazetteer: safe to cache in
# every process (nothing a request or another process can change).
@lru_cache(maxsize=512)
def _area_bytes(filename: str, role: str, communes: tuple[str, ...]) -> bytes:
    area = area_communes(role, communes)
    if filename == AREA_COMMUNES:
        return _csv(COMMUNES_HEADER, (
            (c.code, choice_label(c.name_km, c.name_en), c.district_code, c.province_code)
            for c in area
        ))
    # Villages of the area, without the ``unk-`` rows (the forms that use it exclude them).
    codes = {c.code for c in area}
    return _csv(VILLAGES_HEADER, (
        (v.code, choice_label(v.name_km, v.name_en), v.commune_code)
        for v in load_gazetteer().villages if v.commune_code in codes
    ))


def unknown_communes(codes: Iterable[str]) -> list[str]:
    """The codes that are not communes of the gazetteer."""
    known = {c.code for c in load_gazetteer().communes}
    return [c for c in codes if c not in known]


def labels(filename: str, codes: Iterable[str]) -> dict[str, str]:
    """The labels an area list gives these codes (for staff pages: the list served to the
    phone depends on the account, the label of a code does not)."""
    wanted = set(codes)
    gaz = load_gazetteer()
    rows = gaz.communes if filename == AREA_COMMUNES else gaz.villages
    return {r.code: choice_label(r.name_km, r.name_en) for r in rows if r.code in wanted}
