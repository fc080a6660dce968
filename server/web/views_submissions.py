"""Submissions: the filtered list with bulk review (`/submissions`) and one submission with its
answers, cases, review, comments and history (`/submissions/<instance_id>`).

Thin: filters and paging go to ``casework.listing``, reviews and comments to
``casework.submission_review`` (which audit), answers to ``casework.submission_answers`` (which
audits the read). Filters live in the URL (codes and dates only, never free text); notes and
comments travel in POST bodies.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import errors
from server.accounts import access
from server.api import auth as api_auth
from server.casework import listing, queries, submission_review, unfit
from server.casework.answers import walk_fields
from server.casework.submission_answers import submission_answers
from server.db.models import ReviewState, StaffRole, Submission, SubmissionState
from server.web import case_labels, security
from server.web.blueprint import menu_item, web


def refused(exc: errors.SahakumError, target: str) -> Any:
    """A refused action: nothing is saved, the page says why in its language."""
    api_auth.db_session().rollback()
    flash(case_labels.error_text(exc.code, exc.detail_message), "error")
    return redirect(target)

PAGE_SIZE = 50
LIST_ROLES = (*access.CASE_ROLES, StaffRole.ADMIN)
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")  # an account or collector code, never free text
FILTER_KEYS = ("form", "collector", "commune", "event_from", "event_to", "review_state", "has_alert",
               "state", "to_correct")
FORMS = ("member_intake", "workplace_visit", "village_data")

menu_item("web.submissions", _l("Submissions"))


@web.context_processor
def _case_globals() -> dict[str, Any]:
    return {**case_labels.TEMPLATE_GLOBALS, "walk_fields": walk_fields}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def read_filters(source: Any) -> tuple[listing.SubmissionFilter, dict[str, str]]:
    """The filter from query (or form) values; values that are not valid are dropped."""
    raw = {k: (source.get(k) or "").strip() for k in FILTER_KEYS}
    kept: dict[str, str] = {}
    if raw["form"] in FORMS:
        kept["form"] = raw["form"]
    if _CODE.match(raw["collector"]):
        kept["collector"] = raw["collector"]
    if raw["commune"].isdigit() and len(raw["commune"]) == 6:
        kept["commune"] = raw["commune"]
    for key in ("event_from", "event_to"):
        if _date(raw[key]):
            kept[key] = raw[key]
    if raw["review_state"] in {s.value for s in ReviewState}:
        kept["review_state"] = raw["review_state"]
    if raw["has_alert"] in ("yes", "no"):
        kept["has_alert"] = raw["has_alert"]
    if raw["state"] in {s.value for s in SubmissionState}:
        kept["state"] = raw["state"]
    if raw["to_correct"] in ("yes", "no"):
        kept["to_correct"] = raw["to_correct"]
    f = listing.SubmissionFilter(
        form_id=kept.get("form"), collector=kept.get("collector"), commune=kept.get("commune"),
        event_from=_date(kept.get("event_from")), event_to=_date(kept.get("event_to")),
        review_state=kept.get("review_state"),
        has_alert=None if "has_alert" not in kept else kept["has_alert"] == "yes",
        state=kept.get("state"),
        to_correct=None if "to_correct" not in kept else kept["to_correct"] == "yes",
    )
    return f, kept


def _page_number() -> int:
    try:
        return min(10_000, max(1, int(request.args.get("page", "1"))))
    except ValueError:
        return 1


@web.get("/submissions", endpoint="submissions")
@security.roles_required(*LIST_ROLES)
def submissions_list() -> Any:
    staff = security.current_staff()
    assert staff is not None
    f, kept = read_filters(request.args)
    page = _page_number()
    result = listing.list_submissions(api_auth.db_session(), staff.role, f,
                                      listing.Page((page - 1) * PAGE_SIZE, PAGE_SIZE))
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render_template(
        "submissions/list.html", rows=result.rows, total=result.total, capped=result.total_capped,
        filters=kept, page=page, pages=pages, has_next=len(result.rows) == PAGE_SIZE and (
            page < pages or result.total_capped),
        forms=FORMS, review_states=[s.value for s in ReviewState],
        staff_states=[s.value for s in submission_review.STAFF_STATES],
        can_review=access.can_work_cases(staff.role),
    )


@web.post("/submissions/review", endpoint="submissions_review")
@security.roles_required(*access.CASE_ROLES)
def submissions_bulk_review() -> Any:
    staff = security.current_staff()
    assert staff is not None
    session = api_auth.db_session()
    f, kept = read_filters(request.form)
    state, note = request.form.get("state", ""), request.form.get("note")
    back = url_for("web.submissions", **kept)
    ids = []
    for iid in request.form.getlist("ids")[:PAGE_SIZE * 2]:
        found = listing.get_visible(session, staff.role, iid)
        if found is not None:
            ids.append(found.id)
    matching = request.form.get("scope") == "matching"
    if not matching and not ids:
        flash(_("Select at least one submission, or review all that match the filter."), "error")
        return redirect(back)
    try:
        if matching:
            n = submission_review.review_matching(session, staff, f, state, note,
                                                  request_id=api_auth.request_id())
        else:
            n = submission_review.set_review_state(session, staff, ids, state, note,
                                                   request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, back)
    flash(_("%(n)s submissions marked “%(state)s”.", n=n,
            state=case_labels.REVIEW_STATE_LABELS.get(state, state)), "info")
    return redirect(url_for("web.submissions", **kept))


def load_visible(instance_id: str) -> Submission:
    staff = security.current_staff()
    assert staff is not None
    submission = listing.get_visible(api_auth.db_session(), staff.role, instance_id)
    if submission is None:
        abort(404)
    return submission


@web.get("/submissions/<instance_id>", endpoint="submission")
@security.roles_required(*LIST_ROLES)
def submission_detail(instance_id: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    return _render_detail(load_visible(instance_id), access.pii_access(staff.role).granted, None)


@web.post("/submissions/<instance_id>/reveal", endpoint="submission_reveal")
@security.roles_required(StaffRole.ADMIN)
def submission_reveal(instance_id: str) -> Any:
    """Break glass: an administrator reads the answers after stating why (audited with the
    reason). The page is the answer to the POST, so nothing of it is in a URL or the history."""
    sub = load_visible(instance_id)
    try:
        reason = access.normalise_reason(request.form.get("reason"))
    except ValueError:
        reason = None
    if reason is None:
        flash(_("Say why you need to read the answers."), "error")
        return redirect(url_for("web.submission", instance_id=instance_id))
    return _render_detail(sub, True, reason)


def _render_detail(sub: Submission, pii: bool, reason: str | None) -> Any:
    staff = security.current_staff()
    assert staff is not None
    session = api_auth.db_session()
    (row,) = listing.describe(session, [sub])
    lang = security_lang()
    answers = submission_answers(session, staff, sub, lang, reason=reason,
                                 request_id=api_auth.request_id()) if pii else []
    feed = submission_review.submission_feed(session, sub, lang) if pii else []
    return render_template(
        "submissions/detail.html", sub=sub, row=row, answers=answers, feed=feed, pii=pii,
        cases=queries.submission_cases(session, sub, staff.role),
        unfit=[unfit.view(r, pii) for r in unfit.of_submission(session, sub)], lang_km=lang == "km",
        attachments={a.filename: a for a in sub.current_version.attachments if a.present},
        etag=submission_review.review_etag(sub, submission_review.last_review_id(session, sub)),
        staff_states=[s.value for s in submission_review.STAFF_STATES],
        can_review=access.can_work_cases(staff.role), can_reveal=staff.role == StaffRole.ADMIN,
    )


def security_lang() -> str:
    from server.web.i18n import page_language

    return "en" if page_language() == "en" else "km"


@web.post("/submissions/<instance_id>/review", endpoint="submission_review")
@security.roles_required(*access.CASE_ROLES)
def submission_review_post(instance_id: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    session = api_auth.db_session()
    sub = load_visible(instance_id)
    current = submission_review.review_etag(sub, submission_review.last_review_id(session, sub))
    if request.form.get("etag") != current:
        flash(_("Someone changed this submission since you opened it. Check its history and review again."),
              "error")
        return redirect(url_for("web.submission", instance_id=instance_id))
    state = request.form.get("state", "")
    try:
        submission_review.set_review_state(session, staff, [sub.id], state, request.form.get("note"),
                                           request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, url_for("web.submission", instance_id=instance_id) + "#review")
    flash(_("Review saved: %(state)s.", state=case_labels.REVIEW_STATE_LABELS.get(state, state)), "info")
    return redirect(url_for("web.submission", instance_id=instance_id))


@web.post("/submissions/<instance_id>/comments", endpoint="submission_comment")
@security.roles_required(*access.CASE_ROLES)
def submission_comment_post(instance_id: str) -> Any:
    staff = security.current_staff()
    assert staff is not None
    sub = load_visible(instance_id)
    try:
        submission_review.add_comment(api_auth.db_session(), staff, sub, request.form.get("text", ""),
                                      request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, url_for("web.submission", instance_id=instance_id) + "#comments")
    flash(_("Comment added."), "info")
    return redirect(url_for("web.submission", instance_id=instance_id) + "#comments")


@web.get("/submissions/<instance_id>/files/<int:attachment_id>", endpoint="submission_file")
@security.roles_required(*access.CASE_ROLES)
def submission_file(instance_id: str, attachment_id: int) -> Any:
    """An attachment (photo, audio, file) of the current version, as a download; audited."""
    staff = security.current_staff()
    assert staff is not None
    sub = load_visible(instance_id)
    found = next((a for a in sub.current_version.attachments if a.id == attachment_id and a.present), None)
    if found is None:
        abort(404)
    api_auth.audit("submission.attachment.read", "submission", [sub.id])
    # Streamed from the data folder or object storage (server/storage.py), never read whole.
    stream = current_app.extensions["sahakum_files"].open(str(found.stored_name))
    if stream is None:
        abort(404)
    return send_file(stream, mimetype=found.content_type or "application/octet-stream", as_attachment=True,
                     download_name=found.filename)
