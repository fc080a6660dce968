"""Correct or dismiss an answer the merge could not use, from the submission page
(issue 9 item 9). The decision is in :mod:`server.casework.unfit` (shared with the API)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from server import errors
from server.accounts import access
from server.api import auth as api_auth
from server.casework import unfit
from server.web import security
from server.web.blueprint import web
from server.web.views_submissions import load_visible, refused


def _target(instance_id: str) -> str:
    return url_for("web.submission", instance_id=instance_id) + "#unfit"


@web.post("/submissions/<instance_id>/unfit/<int:unfit_id>/correct", endpoint="unfit_correct")
@security.roles_required(*access.CASE_ROLES)
def unfit_correct(instance_id: str, unfit_id: int) -> Any:
    staff = security.current_staff()
    assert staff is not None
    sub = load_visible(instance_id)
    try:
        unfit.correct(api_auth.db_session(), staff, sub, unfit_id, request.form.get("value", ""),
                      request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, _target(instance_id))
    flash(_("The answer is corrected and the submission merged again with it."), "info")
    return redirect(_target(instance_id))


@web.post("/submissions/<instance_id>/unfit/<int:unfit_id>/dismiss", endpoint="unfit_dismiss")
@security.roles_required(*access.CASE_ROLES)
def unfit_dismiss(instance_id: str, unfit_id: int) -> Any:
    staff = security.current_staff()
    assert staff is not None
    sub = load_visible(instance_id)
    try:
        unfit.dismiss(api_auth.db_session(), staff, sub, unfit_id, request_id=api_auth.request_id())
    except errors.SahakumError as exc:
        return refused(exc, _target(instance_id))
    flash(_("The answer is left out; the submission stays merged without it."), "info")
    return redirect(_target(instance_id))
