"""Referral case management pages: `/referrals` (the work list, filters in the URL) and
`/referrals/<id>` (timing against the 24-hour target, sources, history; acknowledge, refer,
close with an outcome, reopen, assign, notes).

Thin: every action calls ``server.casework.referrals`` (as the JSON API does), which checks the
step and audits. Child-protection cases are 404 for other roles (``queries.get_referral``).
Each action form carries the case's ``row_version``: a form opened before someone else's change
is refused with a message instead of overwriting it (the web form of the API's If-Match).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server import errors
from server.accounts import access
from server.api import auth as api_auth
from server.casework import queries, referrals
from server.db.models import StaffUser, utcnow
from server.db.models.cases import Priority, Referral, ReferralCategory, ReferralStatus
from server.web import case_labels, security
from server.web.blueprint import menu_item, web
from server.web.views_submissions import refused

PAGE_SIZE = 50

menu_item("web.referrals", _l("Referrals"))


def _choice(name: str, allowed: set[str]) -> str | None:
    value = request.args.get(name, "")
    return value if value in allowed else None


@web.get("/referrals", endpoint="referrals")
@security.roles_required(*access.ALL_ROLES)
def referrals_list() -> Any:
    staff = security.current_staff()
    assert staff is not None
    filters = {
        "status": _choice("status", {s.value for s in ReferralStatus}),
        "category": _choice("category", {c.value for c in ReferralCategory}),
        "priority": _choice("priority", {p.value for p in Priority}),
        "mine": _choice("mine", {"1"}),
        "overdue": _choice("overdue", {"1"}),
    }
    try:
        page = min(10_000, max(1, int(request.args.get("page", "1"))))
    except ValueError:
        page = 1
    session = api_auth.db_session()
    rows, total = queries.list_referrals(
        session, queries.Page((page - 1) * PAGE_SIZE, PAGE_SIZE), staff.role, category=filters["category"],
        status=filters["status"], priority=filters["priority"],
        assigned_to=staff.id if filters["mine"] else None, overdue=True if filters["overdue"] else None,
    )
    restricted = [r.id for r in rows if access.is_restricted_referral(r.category, r.restricted)]
    if restricted:
        api_auth.audit("referral.list", "referral", restricted)
    now = utcnow()
    kept = {k: v for k, v in filters.items() if v}
    return render_template(
        "referrals/list.html", rows=rows, total=total, filters=kept, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), timing={r.id: referrals.referral_timing(r, now) for r in rows},
        names=_names([r.assigned_to_id for r in rows]),
        statuses=[s.value for s in ReferralStatus], categories=[c.value for c in ReferralCategory],
    )


def _names(ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    stmt = select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(wanted))
    return {i: n for i, n in api_auth.db_session().execute(stmt).all()}


def _load(referral_id: str) -> Referral:
    staff = security.current_staff()
    assert staff is not None
    referral = queries.get_referral(api_auth.db_session(), referral_id, staff.role)
    if referral is None:
        abort(404)
    return referral


def _hours(delta: Any) -> int:
    return int(delta.total_seconds() // 3600)


@web.get("/referrals/<referral_id>", endpoint="referral")
@security.roles_required(*access.ALL_ROLES)
def referral_detail(referral_id: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    session = api_auth.db_session()
    r = _load(referral_id)
    pii = access.pii_access(staff.role).granted
    api_auth.audit("referral.read", "referral", [r.id])
    sources = referrals.referral_sources(session, staff, r, with_reporter=pii,
                                         request_id=api_auth.request_id())
    events = referrals.history(session, r)
    can_act = access.can_work_cases(staff.role)
    return render_template(
        "referrals/detail.html", r=r, pii=pii, sources=sources, events=events,
        timing=referrals.referral_timing(r, utcnow()), hours=_hours,
        names=_names([r.assigned_to_id, *[e.detail.get("assignee_id") for e in events]]),
        steps=[s.value for s in referrals.allowed_steps(r)] if can_act else [],
        can_act=can_act, services=referrals.services(session) if can_act else [],
        service_names={s.code: s for s in referrals.services(session)},
        outcomes=referrals.OUTCOMES, assignees=queries.staff_choices(session, r) if can_act else [],
        member_code=_member_code(r),
    )


def _member_code(r: Referral) -> str | None:
    if r.member_id is None:
        return None
    from server.db.models.cases import Member

    m = api_auth.db_session().get(Member, r.member_id)
    return m.member_code if m else None


def _guarded(referral_id: str) -> Referral | None:
    """The case, if the form was made from its current version; else a message (no change)."""
    r = _load(referral_id)
    if request.form.get("row_version") != str(r.row_version):
        flash(_("Someone changed this case since you opened it. Nothing was saved: check and try again."),
              "error")
        return None
    return r


def _done(referral_id: str, message: str) -> Any:
    flash(message, "info")
    return redirect(url_for("web.referral", referral_id=referral_id))


@web.post("/referrals/<referral_id>/act", endpoint="referral_act")
@security.roles_required(*access.CASE_ROLES)
def referral_act(referral_id: str) -> Any:
    """One form per step; the button pressed names the step."""
    staff = security.current_staff()
    assert staff is not None
    r = _guarded(referral_id)
    if r is None:
        return redirect(url_for("web.referral", referral_id=referral_id))
    session, rid, note = api_auth.db_session(), api_auth.request_id(), request.form.get("note")
    step = request.form.get("step")
    try:
        if step == "acknowledge":
            referrals.acknowledge(session, staff, r, note, request_id=rid)
        elif step == "refer":
            referrals.refer(session, staff, r, request.form.get("referred_to", ""), note, request_id=rid)
        elif step == "close":
            referrals.close(session, staff, r, request.form.get("outcome", ""),
                            request.form.get("outcome_by") or None, note, request_id=rid)
        elif step == "reopen":
            referrals.reopen(session, staff, r, note, request_id=rid)
        else:
            abort(400)
    except errors.SahakumError as exc:
        return refused(exc, url_for("web.referral", referral_id=referral_id))
    return _done(referral_id, _("Saved: the case is now “%(status)s”.",
                                status=case_labels.REFERRAL_STATUS_LABELS[r.status]))


@web.post("/referrals/<referral_id>/assign", endpoint="referral_assign")
@security.roles_required(*access.CASE_ROLES)
def referral_assign(referral_id: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    r = _guarded(referral_id)
    if r is None:
        return redirect(url_for("web.referral", referral_id=referral_id))
    session = api_auth.db_session()
    name = request.form.get("assignee", "")
    assignee = session.scalar(select(StaffUser).where(StaffUser.name == name)) if name else None
    if name and assignee is None:
        abort(400)
    try:
        referrals.assign(session, staff, r, assignee, request.form.get("note"),
                         request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, url_for("web.referral", referral_id=referral_id))
    return _done(referral_id, _("Assignment saved."))


@web.post("/referrals/<referral_id>/notes", endpoint="referral_note")
@security.roles_required(*access.CASE_ROLES)
def referral_note(referral_id: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    r = _load(referral_id)
    try:
        referrals.add_note(api_auth.db_session(), staff, r, request.form.get("text", ""),
                           request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, url_for("web.referral", referral_id=referral_id) + "#notes")
    return _done(referral_id, _("Note added."))
