"""What the duplicate and member pages show of a member or workplace: fields as labelled rows.

Only formatting for display lives here; which role may see personal data is decided by
``server.accounts.access`` in the view before any of this is called.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.casework import queries
from server.db.models import Village
from server.db.models.cases import Member, Workplace
from server.web.i18n import fmt_date, page_language


@dataclass(frozen=True)
class Row:
    label: Any
    a: list[str]
    b: list[str]
    lang: str | None = None  # "en" for codes and Latin-script values

    @property
    def differs(self) -> bool:
        return sorted(self.a) != sorted(self.b)


@dataclass(frozen=True)
class Source:
    instance_id: str
    at: Any


EVIDENCE_LABELS: dict[str, Any] = {
    "khmer_given_name_equal": _l("Same given name (Khmer)"),
    "khmer_family_name_equal": _l("Same family name (Khmer)"),
    "khmer_family_name_differs": _l("Family name differs (Khmer)"),
    "khmer_given_name_differs": _l("Given name differs (Khmer)"),
    "khmer_name_segmentation_variant": _l("Same Khmer name, split differently"),
    "nickname_equal": _l("Same nickname"),
    "dob_equal": _l("Same date of birth"),
    "dob_day_month_swapped": _l("Date of birth with day and month swapped"),
    "birth_years_overlap": _l("Birth years agree"),
    "birth_years_overlap_wide": _l("Birth years roughly agree"),
    "phone_equal": _l("Same phone number"),
    "phone_family_equal": _l("Same family phone number"),
    "phone_seen_long_ago": _l("Phone number last seen long ago"),
    "origin_village_equal": _l("Same home village"),
    "origin_commune_equal_village_differs": _l("Same home commune, other village"),
    "origin_district_equal": _l("Same home district"),
    "origin_province_equal": _l("Same home province"),
    "origin_district_differs": _l("Home district differs"),
    "origin_province_differs": _l("Home province differs"),
    "workplace_equal": _l("Same workplace"),
    "name_common": _l("A common name (weak evidence)"),
    "name_equal": _l("Same name"),
    "name_similar": _l("Similar name"),
    "name_translit_similar": _l("Similar name in Latin letters"),
    "name_differs": _l("Name differs"),
    "village_equal": _l("Same village"),
    "commune_equal": _l("Same commune"),
    "dob_differs": _l("Date of birth differs"),
    "latin_name_equal": _l("Same name in Latin letters"),
    "latin_name_similar": _l("Similar name in Latin letters"),
    "latin_name_coarse_equal": _l("Name in Latin letters alike (spelling varies)"),
    "latin_name_differs": _l("Name in Latin letters differs"),
    "latin_single_name_equal": _l("Same single name in Latin letters"),
    "latin_single_name_coarse_equal": _l("Single name in Latin letters alike (spelling varies)"),
    "translit_name_equal": _l("Same name once transliterated"),
    "translit_name_similar": _l("Similar name once transliterated"),
    "origin_commune_equal": _l("Same home commune"),
    "owner_equal": _l("Same owner"),
    "phone_own_equal": _l("Same own phone number"),
}

BAND_LABELS: dict[str, Any] = {
    "strong": _l("strong"),
    "probable": _l("probable"),
    "possible": _l("possible"),
}


def band_label(band: str) -> str:
    return str(BAND_LABELS.get(band, band))


def evidence_labels(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, text) for each evidence code; unknown codes are shown as themselves."""
    return [(code, str(EVIDENCE_LABELS.get(code, code))) for code in evidence.get("codes", [])]


def _village_names(session: Session, codes: set[str]) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    english = page_language() == "en"
    stmt = select(Village.code, Village.name_km, Village.name_en).where(Village.code.in_(codes))
    rows = session.execute(stmt)
    return {code: (en if english else km) for code, km, en in rows}


def _place(code: str | None, names: dict[str, str]) -> list[str]:
    if not code:
        return []
    return [f"{names[code]} ({code})" if code in names else code]


def _workplace_label(session: Session, workplace_id: uuid.UUID | None) -> list[str]:
    if workplace_id is None:
        return []
    wp = session.get(Workplace, workplace_id)
    if wp is None:
        return []
    names = [n.name_km or n.name_latin for n in wp.names if not n.is_alias]
    return [f"{wp.workplace_code} {' / '.join(n for n in names if n)}".strip()]


def _birth(member: Member) -> list[str]:
    if member.dob is not None:
        return [fmt_date(member.dob)]
    if member.age_at_intake is not None:
        when = fmt_date(member.intake_date) if member.intake_date else ""
        return [str(_l("age %(age)s at intake %(when)s", age=member.age_at_intake, when=when)).strip()]
    return []


def sources(session: Session, member: Member) -> list[Source]:
    return [
        Source(s.current_version.instance_id if s.versions else s.root_instance_id, s.created_at)
        for s in queries.member_submissions(session, member)
    ]


Values = dict[str, tuple[list[str], str | None]]


def _member_values(session: Session, m: Member, villages: dict[str, str]) -> Values:
    khmer = " ".join(x for x in (m.family_name_km, m.given_name_km) if x)
    return {
        "code": ([m.member_code or m.claimed_code or "-"], "en"),
        "khmer": ([khmer] if khmer else [], None),
        "latin": ([m.name_latin_raw] if m.name_latin_raw else [], "en"),
        "aliases": ([a.value for a in m.aliases], None),
        "birth": (_birth(m), None),
        "phones": ([p.phone_e164 for p in m.phones], "en"),
        "origin": (_place(m.origin_village_code, villages) or [x for x in (m.origin_text,) if x], None),
        "workplace": (_workplace_label(session, m.current_workplace_id), None),
        "sector": ([m.sector] if m.sector else [], "en"),
        "pe": ([m.pe_code] if m.pe_code else [], "en"),
        "sources": ([src.instance_id for src in sources(session, m)], "en"),
        "created": ([fmt_date(m.created_at)], None),
    }


MEMBER_LABELS: dict[str, Any] = {
    "code": _l("Member code"),
    "khmer": _l("Name (Khmer script)"),
    "latin": _l("Name (Latin letters)"),
    "aliases": _l("Nicknames and other names"),
    "birth": _l("Date of birth or age"),
    "phones": _l("Phone numbers"),
    "origin": _l("Home village"),
    "workplace": _l("Workplace"),
    "sector": _l("Sector"),
    "pe": _l("Peer educator"),
    "sources": _l("Sources (submissions)"),
    "created": _l("Recorded on"),
}


def member_rows(session: Session, a: Member, b: Member) -> list[Row]:
    villages = _village_names(session, {a.origin_village_code or "", b.origin_village_code or ""})
    va, vb = _member_values(session, a, villages), _member_values(session, b, villages)
    return [Row(label, va[key][0], vb[key][0], va[key][1]) for key, label in MEMBER_LABELS.items()]


def member_facts(session: Session, m: Member) -> list[tuple[Any, list[str], str | None]]:
    """One member's personal-data rows (only for roles granted PII)."""
    values = _member_values(session, m, _village_names(session, {m.origin_village_code or ""}))
    return [(label, values[key][0], values[key][1]) for key, label in MEMBER_LABELS.items()
            if key not in ("code", "created", "sources")]


WORKPLACE_LABELS: dict[str, Any] = {
    "code": _l("Workplace code"),
    "names": _l("Names"),
    "type": _l("Type"),
    "village": _l("Village"),
    "landmark": _l("Landmark"),
    "last_visit": _l("Last visit"),
    "created": _l("Recorded on"),
}


def _workplace_values(w: Workplace, villages: dict[str, str]) -> Values:
    return {
        "code": ([w.workplace_code], "en"),
        "names": ([n.name_km or n.name_latin or "" for n in w.names], None),
        "type": ([w.type] if w.type else [], "en"),
        "village": (_place(w.village_code, villages), None),
        "landmark": ([w.landmark_text] if w.landmark_text else [], None),
        "last_visit": ([fmt_date(w.last_visit_date)] if w.last_visit_date else [], None),
        "created": ([fmt_date(w.created_at)], None),
    }


def workplace_rows(session: Session, a: Workplace, b: Workplace) -> list[Row]:
    villages = _village_names(session, {a.village_code or "", b.village_code or ""})
    va, vb = _workplace_values(a, villages), _workplace_values(b, villages)
    return [Row(label, va[key][0], vb[key][0], va[key][1]) for key, label in WORKPLACE_LABELS.items()]
