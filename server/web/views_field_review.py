"""Possible duplicate visits (`/visit-duplicates`) and village-report corrections
(`/village-reports`): staff decide what counts (issue 9 items 6 and 7).

Deciding calls ``server.casework.visit_duplicates`` and ``server.casework.village_reports`` (the
JSON API's functions), which audit. The pages show codes, dates and counts only.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import errors
from server.accounts import access
from server.api import auth as api_auth
from server.casework import village_reports, visit_duplicates
from server.db.models import VillageReport
from server.db.models.field_duplicates import HELD
from server.web import security
from server.web.blueprint import menu_item, web
from server.web.views_submissions import refused

PAGE_SIZE = 50

menu_item("web.visit_duplicates", _l("Duplicate visits"))
menu_item("web.village_reports", _l("Village reports"))

VISIT_STATUS_LABELS: dict[str, Any] = {
    "pending": _l("Waiting for a decision (counted once)"),
    "same": _l("Same visit (counted once)"),
    "different": _l("Two different visits (both counted)"),
    "withdrawn": _l("No longer alike after an edit"),
}
REPORT_STATUS_LABELS: dict[str, Any] = {
    "accepted": _l("Counted for its month"),
    "correction_pending": _l("Possible duplicate or correction: waiting for a decision"),
    "superseded": _l("Replaced by a correction (kept in the history)"),
    "rejected": _l("Set aside (not counted)"),
}
VISIT_FIELD_LABELS: dict[str, Any] = {
    "visit_type": _l("Kind of visit"),
    "access": _l("Access"),
    "manager_attitude": _l("Manager's attitude"),
    "n_workers_est": _l("Workers (estimate)"),
    "n_met": _l("Women she talked to"),
    "n_members_present": _l("Network members present"),
    "n_leaflets": _l("Leaflets handed out"),
    "activities": _l("Activities"),
}
FIGURE_LABELS: dict[str, Any] = {
    "n_households": _l("Households in the village"),
    "n_left": _l("People who left to work elsewhere"),
    "n_left_women_15_24": _l("Of them, women and girls aged 15-24"),
    "n_left_under18": _l("Of them, under 18"),
    "n_left_via_broker": _l("Went with a broker or recruiter"),
    "n_returned": _l("People who came back"),
    "n_returned_need_help": _l("Of them, need help"),
    "n_children_working_away": _l("Children working in entertainment places or away"),
    "n_venues": _l("Entertainment places in the village"),
    "n_new_venues": _l("New places this month"),
    "n_sessions": _l("Awareness sessions"),
    "n_part_f": _l("Women and girls who took part"),
    "n_part_m": _l("Men and boys who took part"),
}


def _label(table: dict[str, Any], code: Any) -> str:
    return str(table.get(str(code), code))


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _status(allowed: tuple[str, ...], default: str) -> str:
    status = request.args.get("status", default)
    return status if status in allowed else default


def _value(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


# --- possible duplicate visits ----------------------------------------------------------------
@web.get("/visit-duplicates", endpoint="visit_duplicates")
@security.roles_required(*access.REVIEW_ROLES)
def visit_duplicates_list() -> Any:
    status = _status(visit_duplicates.STATUSES, "pending")
    page = _page_number()
    session = api_auth.db_session()
    pairs, total = visit_duplicates.list_pairs(session, status=status, offset=(page - 1) * PAGE_SIZE,
                                               limit=PAGE_SIZE)
    sides = {p.id: visit_duplicates.sides(session, p) for p in pairs}
    return render_template(
        "field_review/visits.html", pairs=pairs, sides=sides, total=total, status=status,
        statuses=visit_duplicates.STATUSES, status_label=lambda c: _label(VISIT_STATUS_LABELS, c),
        page=page, pages=max(1, -(-total // PAGE_SIZE)),
    )


@web.get("/visit-duplicates/<pair_id>")
@security.roles_required(*access.REVIEW_ROLES)
def visit_duplicate_detail(pair_id: str) -> Any:
    session = api_auth.db_session()
    pair = visit_duplicates.get_pair(session, pair_id)
    if pair is None:
        abort(404)
    first, second = visit_duplicates.sides(session, pair)
    rows = [(_label(VISIT_FIELD_LABELS, k), _value(first.values[k]), _value(second.values[k]))
            for k in visit_duplicates.COMPARED]
    return render_template(
        "field_review/visit.html", pair=pair, first=first, second=second, rows=rows,
        etag=visit_duplicates.etag(pair), held=pair.status in HELD,
        status_label=_label(VISIT_STATUS_LABELS, pair.status),
    )


def _decide_visits(pair_id: str, same: bool) -> Any:
    session = api_auth.db_session()
    pair = visit_duplicates.get_pair(session, pair_id)
    if pair is None:
        abort(404)
    staff = security.current_staff()
    assert staff is not None  # roles_required
    target = url_for("web.visit_duplicate_detail", pair_id=pair.id)
    try:
        visit_duplicates.decide(session, staff, pair, same, note=request.form.get("note"),
                                sent_etag=request.form.get("etag", ""), request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, target)
    except ValueError:
        return refused(errors.ReasonTooLong(), target)
    if same:
        flash(_("Recorded: the same visit sent twice. It is counted once."), "info")
    else:
        flash(_("Recorded: two different visits. Both are counted."), "info")
    return redirect(url_for("web.visit_duplicates"))


@web.post("/visit-duplicates/<pair_id>/same")
@security.roles_required(*access.REVIEW_ROLES)
def visit_duplicate_same(pair_id: str) -> Any:
    return _decide_visits(pair_id, True)


@web.post("/visit-duplicates/<pair_id>/different")
@security.roles_required(*access.REVIEW_ROLES)
def visit_duplicate_different(pair_id: str) -> Any:
    return _decide_visits(pair_id, False)


# --- village reports --------------------------------------------------------------------------
@web.get("/village-reports", endpoint="village_reports")
@security.roles_required(*access.REVIEW_ROLES)
def village_reports_list() -> Any:
    status = _status(village_reports.STATUSES, "correction_pending")
    page = _page_number()
    reports, total = village_reports.list_reports(api_auth.db_session(), status=status,
                                                  offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_template(
        "field_review/reports.html", reports=reports, total=total, status=status,
        statuses=village_reports.STATUSES, status_label=lambda c: _label(REPORT_STATUS_LABELS, c),
        page=page, pages=max(1, -(-total // PAGE_SIZE)),
    )


@web.get("/village-reports/<report_id>")
@security.roles_required(*access.REVIEW_ROLES)
def village_report_detail(report_id: str) -> Any:
    session = api_auth.db_session()
    report = village_reports.get_report(session, report_id)
    if report is None:
        abort(404)
    earlier = session.get(VillageReport, report.correction_of_id) if report.correction_of_id else None
    rows = [(_label(FIGURE_LABELS, r.name), _value(r.earlier), _value(r.correction), r.differs)
            for r in village_reports.compare(earlier, report)]
    return render_template(
        "field_review/report.html", report=report, earlier=earlier, rows=rows,
        history=village_reports.history(session, report), etag=village_reports.etag(report),
        status_label=lambda c: _label(REPORT_STATUS_LABELS, c),
    )


def _decide_report(report_id: str, accept: bool) -> Any:
    session = api_auth.db_session()
    report = village_reports.get_report(session, report_id)
    if report is None:
        abort(404)
    staff = security.current_staff()
    assert staff is not None  # roles_required
    target = url_for("web.village_report_detail", report_id=report.id)
    decide = village_reports.accept_correction if accept else village_reports.reject_correction
    try:
        decide(session, staff, report, note=request.form.get("note"),
               sent_etag=request.form.get("etag", ""), request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, target)
    except ValueError:
        return refused(errors.ReasonTooLong(), target)
    if accept:
        flash(_("The correction now counts for its month. The earlier report is kept in the history."),
              "info")
    else:
        flash(_("The correction is set aside. The earlier report still counts."), "info")
    return redirect(url_for("web.village_reports"))


@web.post("/village-reports/<report_id>/accept")
@security.roles_required(*access.REVIEW_ROLES)
def village_report_accept(report_id: str) -> Any:
    return _decide_report(report_id, True)


@web.post("/village-reports/<report_id>/reject")
@security.roles_required(*access.REVIEW_ROLES)
def village_report_reject(report_id: str) -> Any:
    return _decide_report(report_id, False)
