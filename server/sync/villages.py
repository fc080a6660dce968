"""Seed the `villages` table from the gazetteer (server.xforms.gazetteer, MEF 2025).

Idempotent: rows are keyed (code, commune_code, gazetteer_version) because the 2025 source
lists some village codes under two communes; names are updated in place when they change.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Village
from server.xforms.gazetteer import Gazetteer, load_gazetteer


def load_villages(session: Session, gazetteer: Gazetteer | None = None) -> dict[str, int]:
    """Insert or update every gazetteer village. Returns counts added/updated/unchanged."""
    gaz = gazetteer or load_gazetteer()
    communes = {c.code: c for c in gaz.communes}
    existing = {
        (v.code, v.commune_code): v
        for v in session.scalars(select(Village).where(Village.gazetteer_version == gaz.version))
    }
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    seen: set[tuple[str, str]] = set()
    for v in gaz.villages:
        key = (v.code, v.commune_code)
        if key in seen:  # exact duplicate rows in the source
            continue
        seen.add(key)
        commune = communes.get(v.commune_code)
        district = commune.district_code if commune else v.commune_code[:4]
        province = commune.province_code if commune else v.commune_code[:2]
        row = existing.get(key)
        if row is None:
            session.add(Village(
                code=v.code, commune_code=v.commune_code, district_code=district,
                province_code=province, name_km=v.name_km, name_en=v.name_en,
                gazetteer_version=gaz.version, aliases=[],
            ))
            counts["added"] += 1
        elif (row.name_km, row.name_en, row.district_code, row.province_code) != (
            v.name_km, v.name_en, district, province
        ):
            row.name_km, row.name_en = v.name_km, v.name_en
            row.district_code, row.province_code = district, province
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    session.flush()
    return counts
