"""Duplicate review (`/duplicates`, `/duplicates/<id>`) and the member page with undo of a merge.

Deciding calls ``server.casework.duplicates`` (the same functions as the JSON API), which
audits. Reading both records' personal data is audited here, as the API does.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server.accounts import access
from server.api import auth as api_auth
from server.casework import duplicates, member_cases, queries
from server.db.models.cases import CandidatePair, EntityType, Member, PairStatus
from server.web import records, security
from server.web.blueprint import menu_item, web

PAGE_SIZE = 50
STATUSES = tuple(s.value for s in PairStatus)

menu_item("web.duplicates", _l("Duplicates"))


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@web.get("/duplicates", endpoint="duplicates")
@security.roles_required(*access.REVIEW_ROLES)
def duplicates_list() -> Any:
    status = request.args.get("status", PairStatus.PENDING.value)
    if status not in STATUSES:
        status = PairStatus.PENDING.value
    page = _page_number()
    pairs, total = queries.list_pairs(
        api_auth.db_session(), queries.Page((page - 1) * PAGE_SIZE, PAGE_SIZE), status=status
    )
    session = api_auth.db_session()
    # Codes only on the list (no personal data: nothing to audit until a pair is opened).
    codes = {p.id: tuple(_code(r) for r in queries.pair_records(session, p)) for p in pairs}
    return render_template(
        "duplicates/list.html", pairs=pairs, codes=codes, total=total, status=status,
        statuses=STATUSES, page=page, pages=max(1, -(-total // PAGE_SIZE)),
    )


def _code(record: Any) -> str:
    if record is None:
        return "-"
    if isinstance(record, Member):
        return record.member_code or record.claimed_code or "-"
    return record.workplace_code


def _load_pair(pair_id: str) -> CandidatePair:
    pair = queries.get_pair(api_auth.db_session(), pair_id)
    if pair is None:
        abort(404)
    return pair


@web.get("/duplicates/<pair_id>")
@security.roles_required(*access.REVIEW_ROLES)
def duplicate_detail(pair_id: str) -> Any:
    session = api_auth.db_session()
    pair = _load_pair(pair_id)
    a, b = queries.pair_records(session, pair)
    if a is None or b is None:
        abort(404)
    if pair.entity_type == EntityType.MEMBER:
        rows = records.member_rows(session, a, b)
        api_auth.audit("duplicate.read", "member", [a.id, b.id])
    else:
        rows = records.workplace_rows(session, a, b)
    return render_template(
        "duplicates/detail.html", pair=pair, a=a, b=b, a_code=_code(a), b_code=_code(b), rows=rows,
        evidence=records.evidence_labels(pair.evidence or {}), veto=(pair.evidence or {}).get("veto"),
        band=records.band_label(pair.band),
        default_survivor=_default_survivor(a, b),
    )


def _default_survivor(a: Any, b: Any) -> uuid.UUID:
    """The record created first survives unless the reviewer picks the other (as review does)."""
    return a.id if (a.created_at, str(a.id)) <= (b.created_at, str(b.id)) else b.id


def _row_version() -> int | None:
    try:
        return int(request.form.get("row_version", ""))
    except ValueError:
        return None


@web.post("/duplicates/<pair_id>/merge")
@security.roles_required(*access.REVIEW_ROLES)
def duplicate_merge(pair_id: str) -> Any:
    pair = _load_pair(pair_id)
    survivor = queries.as_uuid(request.form.get("survivor", ""))
    staff = security.current_staff()
    assert staff is not None  # roles_required
    event = duplicates.merge_pair(
        api_auth.db_session(), staff, pair, survivor_id=survivor, note=request.form.get("note"),
        row_version=_row_version(), request_id=api_auth.request_id(),
    )
    flash(_("The two records are merged. You can undo the merge on the member's page."), "info")
    if pair.entity_type == EntityType.MEMBER:
        return redirect(url_for("web.member", member_id=event.survivor_id))
    return redirect(url_for("web.duplicates"))


@web.post("/duplicates/<pair_id>/reject")
@security.roles_required(*access.REVIEW_ROLES)
def duplicate_reject(pair_id: str) -> Any:
    pair = _load_pair(pair_id)
    staff = security.current_staff()
    assert staff is not None
    duplicates.reject_pair(
        api_auth.db_session(), staff, pair, note=request.form.get("note"),
        row_version=_row_version(), request_id=api_auth.request_id(),
    )
    flash(_("Marked as not the same person. This pair will not be proposed again."), "info")
    return redirect(url_for("web.duplicates"))


def _load_member(member_id: str) -> Member:
    member = queries.get_member(api_auth.db_session(), member_id)
    if member is None:
        abort(404)
    return member


@web.get("/members/<member_id>")
@security.roles_required(*access.ALL_ROLES)
def member(member_id: str) -> Any:
    session = api_auth.db_session()
    m = _load_member(member_id)
    staff = security.current_staff()
    assert staff is not None
    pii = access.pii_access(staff.role).granted
    if pii:
        api_auth.audit("member.read", "member", [m.id])
    events = queries.member_merge_events(session, m)
    undoable = next((e for e in reversed(events) if e.undone_at is None), None)
    return render_template(
        "member.html", m=m, pii=pii,
        facts=records.member_facts(session, m) if pii else [],
        sources=records.sources(session, m),
        merged_into=session.get(Member, m.merged_into_member_id) if m.merged_into_member_id else None,
        merged_from=[session.get(Member, i) for i in queries.merged_from(session, m)],
        events=events, undoable=undoable,
        can_undo=access.can_review_duplicates(staff.role),
        referrals=member_cases.member_referrals(session, m, staff.role),
        visits=member_cases.member_visits(session, m) if pii else [],
        sectors=member_cases.member_sectors(session, m) if pii else [],
        code_of=lambda mid: _code(session.get(Member, mid)) if mid else "-",
    )


@web.post("/members/<member_id>/unmerge")
@security.roles_required(*access.REVIEW_ROLES)
def member_unmerge(member_id: str) -> Any:
    m = _load_member(member_id)
    staff = security.current_staff()
    assert staff is not None
    duplicates.unmerge_member(
        api_auth.db_session(), staff, m, note=request.form.get("note"), request_id=api_auth.request_id()
    )
    flash(_("The merge is undone: both records are back as they were."), "info")
    return redirect(url_for("web.member", member_id=m.id))
