"""Sign-in, sign-out, the one-time set-up link, and the language switch."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from server import errors
from server.accounts import passwords
from server.api import auth as api_auth
from server.web import security
from server.web.blueprint import web
from server.web.i18n import LANGUAGES


def render_signin(status: int = 200, error: str | None = None, username: str = "") -> Any:
    next_path = security.safe_next(request.values.get("next"))
    return render_template(
        "signin.html", error=error, username=username, next_path=next_path
    ), status


@web.post("/signin")
def signin() -> Any:
    username = request.form.get("username", "")[:100]
    password = request.form.get("password", "")
    session_ = api_auth.db_session()
    result = passwords.sign_in(session_, username, password)
    # The failure count must survive the refusal below (finish_request rolls back on 4xx).
    session_.commit()
    if result.outcome is passwords.SignIn.LOCKED:
        message = _("Too many failed sign-ins: this account is locked for 15 minutes.")
        return render_signin(423, message, username)
    if result.outcome is not passwords.SignIn.OK or result.user is None:
        # One message for an unknown name and a wrong password: no account enumeration.
        return render_signin(401, _("The name or the password is not right."), username)
    security.start_session(result.user)
    g.sahakum_staff = result.user
    api_auth.audit("staff.signin", "staff", [result.user.id])
    target = security.safe_next(request.form.get("next"))
    return redirect(target or url_for("web.home"))


@web.post("/signout")
def signout() -> Any:
    staff = security.current_staff()
    if staff is not None:
        api_auth.audit("staff.signout", "staff", [staff.id])
    security.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("web.home"))


@web.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> Any:
    """The one-time link from `sahakum staff add`: the person chooses a password (once)."""
    session_ = api_auth.db_session()
    user = passwords.find_setup_user(session_, token)
    if user is None:
        message = _("This set-up link is not valid: it was already used, it expired (links work "
                    "for 24 hours) or it was replaced. Ask an administrator for a new one.")
        return render_template("error.html", message=message, status=404), 404
    if request.method == "GET":
        return render_template("setup.html", account=user.name, errors={})
    password = request.form.get("password", "")
    problems: dict[str, str] = {}
    if password != request.form.get("password_confirm", ""):
        problems["password_confirm"] = _("The two passwords are not the same.")
    try:
        passwords.check_new_password(password)
    except errors.SahakumError:
        problems["password"] = _("A password has at least 12 characters.")
    if problems:
        return render_template("setup.html", account=user.name, errors=problems), 422
    passwords.set_password(session_, user, password)
    flash(_("Your password is set. Sign in with it."), "info")
    security.end_session()
    return redirect(url_for("web.home"))


@web.post("/language")
def language() -> Any:
    """The switch on every page: remembered on the staff row when signed in, else in the session."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        raise errors.RequestInvalid()
    staff = security.current_staff()
    if staff is not None:
        staff.language = lang
        api_auth.db_session().flush()
    session["lang"] = lang
    return redirect(security.safe_next(request.form.get("next")) or url_for("web.home"))
