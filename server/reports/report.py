"""The indicator report (domain.md 5): build it for a period, render it (JSON, CSV, XLSX),
freeze it as a snapshot with a SHA-256 of its content.

The same function serves the JSON API, the web page and ``sahakum report indicators``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import errors
from server.db.models import CandidatePair, EntityType, PairStatus, ReportSnapshot
from server.reports import ind_cases, ind_people, ind_places, ind_savings, texts
from server.reports.context import ReportContext
from server.reports.figures import SMALL_CELL, SUPPRESSED, Figure, Indicator
from server.reports.periods import parse_period

LANGS = ("en", "km")


def compute_indicators(ctx: ReportContext) -> list[Indicator]:
    """All 18 indicators, in order. Referrals and visits are read once for the indicators
    that share them."""
    referrals = ind_cases.counted_referrals(ctx)
    visits = ind_places.visit_stats(ctx)
    makers: list[Callable[[], Indicator]] = [
        lambda: ind_people.network_members(ctx),
        lambda: ind_people.peer_educators_trained(ctx),
        lambda: ind_people.gatekeepers(ctx),
        lambda: ind_people.awareness_courses(ctx),
        lambda: ind_people.participants(ctx),
        lambda: ind_cases.health_access(ctx, referrals),
        lambda: ind_savings.livelihood(ctx),
        lambda: ind_savings.savings_books(ctx),
        lambda: ind_savings.savers_per_group(ctx),
        lambda: ind_savings.apprenticeships(ctx),
        lambda: ind_cases.hotline(ctx, referrals),
        lambda: ind_cases.referrals(ctx, referrals),
        lambda: ind_cases.child_protection(ctx, referrals),
        lambda: ind_places.workplace_monitoring(ctx, visits),
        lambda: ind_places.employer_negotiation(ctx, visits),
        lambda: ind_people.meetings(ctx),
        lambda: ind_places.village_data(ctx),
        lambda: ind_places.materials(ctx, visits),
    ]
    return [make() for make in makers]


def pending_duplicates(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(CandidatePair).where(
            CandidatePair.status == PairStatus.PENDING, CandidatePair.entity_type == EntityType.MEMBER
        )
    ) or 0


def _figure(f: Figure, external: bool, child_visible: bool, lang: str) -> dict[str, Any]:
    return {"label": texts.label(f.label, lang), "breakdown": f.breakdown,
            "value": f.shown(external, child_visible)}


def build_report(session: Session, period: str, *, external: bool = False, child_visible: bool = True,
                 lang: str = "en") -> dict[str, Any]:
    """The report as the JSON the API returns: period, external, possible_duplicates_pending and
    the 18 indicators with title, method and figures (value a number, null or "<5")."""
    p = parse_period(period)
    ctx = ReportContext(session, p, child_visible=child_visible)
    pending = pending_duplicates(session)
    return {
        "period": p.label,
        "external": external,
        "possible_duplicates_pending": SUPPRESSED if external and pending < SMALL_CELL else pending,
        "indicators": [
            {
                "number": ind.number,
                "title": texts.title(ind.number, lang),
                "method": texts.method(ind.number, lang),
                "figures": [_figure(f, external, child_visible, lang) for f in ind.figures],
            }
            for ind in compute_indicators(ctx)
        ],
    }


# --- rendering ----------------------------------------------------------------------------------
CSV_HEADER = ("indicator", "title", "label", "breakdown", "value", "method")


def _rows(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        ("", "", "possible duplicates pending", "total", report["possible_duplicates_pending"], "")
    ]
    for ind in report["indicators"]:
        for f in ind["figures"]:
            value = "" if f["value"] is None else f["value"]
            rows.append((ind["number"], ind["title"], f["label"], f["breakdown"], value, ind["method"]))
    return rows


def render_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Khmer titles correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("period", report["period"], "external", str(report["external"]).lower()))
    writer.writerow(CSV_HEADER)
    writer.writerows(_rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Indicators")
    sheet.append(["period", report["period"], "external", str(report["external"]).lower()])
    sheet.append(list(CSV_HEADER))
    for row in _rows(report):
        sheet.append(list(row))
    methods = book.create_sheet("Methods")
    methods.append(["indicator", "title", "method"])
    for ind in report["indicators"]:
        methods.append([ind["number"], ind["title"], ind["method"]])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def canonical_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- snapshots ----------------------------------------------------------------------------------
def freeze(session: Session, report: dict[str, Any], actor: str) -> ReportSnapshot:
    """Store the report exactly as built, with the SHA-256 of its canonical JSON."""
    content = canonical_json(report)
    snap = ReportSnapshot(
        period=report["period"], external=bool(report["external"]), content=content,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(), created_by=actor,
    )
    session.add(snap)
    session.flush()
    return snap


def snapshot_report(session: Session, snapshot_id: str) -> tuple[ReportSnapshot, dict[str, Any]]:
    """A frozen report, checked against its hash (a changed row is refused, not shown)."""
    try:
        sid = uuid.UUID(snapshot_id)
    except ValueError:
        raise errors.NotFound("There is no snapshot with this id.") from None
    snap = session.get(ReportSnapshot, sid)
    if snap is None:
        raise errors.NotFound("There is no snapshot with this id.")
    if hashlib.sha256(snap.content.encode("utf-8")).hexdigest() != snap.sha256:
        raise errors.SnapshotCorrupt()
    return snap, json.loads(snap.content)


def list_snapshots(session: Session, limit: int = 200) -> list[ReportSnapshot]:
    stmt = select(ReportSnapshot).order_by(ReportSnapshot.created_at.desc()).limit(limit)
    return list(session.scalars(stmt))
