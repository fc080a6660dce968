"""Sessions, sign-in checks, CSRF, security headers and error pages for the staff web pages.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure behind https): it holds
the staff id, when the password was set, and when the person was last active. Nothing is kept
in a process, so any of several app processes can serve the next request. A session ends after
30 idle minutes, after 12 hours in any case, on sign-out, and when the account is revoked or
its password changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server import errors
from server.api import auth as api_auth
from server.db.models import StaffRole, StaffUser

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# Pages anyone may open: sign-in (the home page when signed out), set-up link, language switch.
PUBLIC_ENDPOINTS = frozenset({"web.home", "web.signin", "web.setup", "web.language"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _idle_limit() -> float:
    value = current_app.config.get("SAHAKUM_WEB_IDLE_TIMEOUT", IDLE_TIMEOUT)
    return value.total_seconds()


def _password_stamp(user: StaffUser) -> float:
    return user.password_set_at.timestamp() if user.password_set_at else 0.0


def start_session(user: StaffUser) -> None:
    """After a successful sign-in: a fresh session (old contents and CSRF token dropped)."""
    lang = session.get("lang")
    session.clear()
    now = time.time()
    session["staff_id"] = user.id
    session["pw"] = _password_stamp(user)
    session["auth_at"] = now
    session["seen_at"] = now
    if lang and not user.language:
        user.language = lang  # chosen with the switch on the sign-in page: remembered


def end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _load_staff() -> StaffUser | None:
    """The signed-in person, or None; ends a session that is idle, too old or stale."""
    staff_id = session.get("staff_id")
    if staff_id is None:
        return None
    now = time.time()
    seen_at = float(session.get("seen_at", 0))
    auth_at = float(session.get("auth_at", 0))
    expired = now - seen_at > _idle_limit() or now - auth_at > ABSOLUTE_TIMEOUT.total_seconds()
    user = None if expired else api_auth.db_session().get(StaffUser, staff_id)
    if user is None or not user.active or session.get("pw") != _password_stamp(user):
        end_session()
        g.sahakum_session_ended = True
        return None
    session["seen_at"] = now
    return user


def before_request() -> Response | None:
    api_auth.request_id()
    if request.method == "POST":
        from server.web import csrf

        csrf.protect()  # raises CSRFError: nothing below runs, nothing changes
    user = _load_staff()
    if user is not None:
        g.sahakum_staff = user  # also what server.api.auth.audit records as the actor
    elif request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect_to_signin()
    return None


def redirect_to_signin() -> Response:
    if g.get("sahakum_session_ended"):
        flash(_("You were signed out after 30 minutes without activity. Sign in again."), "info")
    target = safe_next(request.full_path if request.method == "GET" else None)
    return redirect(url_for("web.home", next=target) if target and target != "/?" else url_for("web.home"))


def safe_next(value: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no '//' or backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value.rstrip("?")


def after_request(response: Response) -> Response:
    response = api_auth.finish_request(response)
    headers = response.headers
    # Staff pages show personal data: nothing is kept by the browser or a proxy (the Back
    # button on a shared office computer shows nothing after sign-out).
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"  # set-up links carry a secret in the path
    headers["X-Frame-Options"] = "DENY"
    headers["Vary"] = "Cookie, Accept-Language"
    return response


def teardown_request(exc: BaseException | None) -> None:
    api_auth.close_session(exc)


def current_staff() -> StaffUser | None:
    """The signed-in person on a web page, or None when signed out."""
    return g.get("sahakum_staff")


def login_required(func: F) -> F:
    """The page needs a signed-in person (every non-public page does already; this makes it
    explicit on views that other screens reuse)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return redirect_to_signin()
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def roles_required(*roles: StaffRole) -> Callable[[F], F]:
    """Only these roles may open the page (403 page otherwise); the menu shows it to them."""
    allowed = frozenset(roles)

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                return redirect_to_signin()
            if user.role not in allowed:
                raise errors.StaffForbidden()
            return func(*args, **kwargs)

        wrapper.sahakum_roles = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _error_text(exc: errors.SahakumError) -> str:
    """Staff-facing text of a catalogue error, in the page language."""
    texts = {
        errors.StaffForbidden.code: _("Your role does not allow this page."),
        errors.NotFound.code: _("This page does not exist, or it is not for your role."),
        errors.PairAlreadyDecided.code: _("This pair was already decided. Reload the list."),
        errors.MergeNotAllowed.code: _("These records cannot be merged (one is already merged)."),
        errors.MergeAlreadyUndone.code: _("This merge was already undone."),
        errors.UnmergeBlocked.code: _("A later merge involves this record. Undo the later merge first."),
        errors.PreconditionFailed.code: _("The record changed since you opened it. Reload and try again."),
    }
    return texts.get(exc.code, exc.detail_message)


def handle_error(exc: Exception) -> Any:
    """Errors on web pages become a page in the person's language, never a stack trace."""
    if isinstance(exc, CSRFError):
        message = _("This form has expired or did not come from Sahakum. Go back, reload the page "
                    "and try again. Nothing was changed.")
        return render_template("error.html", message=message, status=400), 400
    if isinstance(exc, errors.SahakumError):
        return render_template("error.html", message=_error_text(exc), status=exc.status), exc.status
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        if status == 404:
            message = _error_text(errors.NotFound())
        elif status == 405:
            message = _("This address does not accept this kind of request.")
        else:
            message = _("The request could not be read.")
        return render_template("error.html", message=message, status=status), status
    errors.log_bug(log, f"web {request.method} {request.url_rule}", exc)
    message = _("The server had a problem. Try again later.")
    return render_template("error.html", message=message, status=500), 500


def is_signed_in() -> bool:
    return current_staff() is not None


def home_redirect() -> Response:
    return redirect(url_for("web.home"))
