"""Khmer by default, English on request: the page language, and dates and numbers formatted in it.

Signed in: the person's choice (stored on the staff row), else Khmer. Signed out: the choice
made with the switch on the sign-in page (session), then the browser's Accept-Language if it
prefers English, else Khmer. A choice made before signing in is stored for the person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

from server.db.models import utcnow

LANGUAGES = ("km", "en")
DEFAULT_LANGUAGE = "km"
# Dates are shown in Cambodia's time whatever the server's zone is.
TIMEZONE = "Asia/Phnom_Penh"


def select_language() -> str:
    staff = g.get("sahakum_staff")
    if staff is not None:
        # Signed in: the person's own choice, else Khmer (the browser's setting may be a shared
        # office computer's).
        return staff.language if staff.language in LANGUAGES else DEFAULT_LANGUAGE
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


_ZONE = ZoneInfo(TIMEZONE)
_DEFAULT_LOCALE = Locale.parse(DEFAULT_LANGUAGE)


def page_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


# Babel called directly with the request's locale (Flask-Babel caches it per request): the
# Flask-Babel wrappers look the locale and zone up again on every call, which cost 30 ms on a
# list page of 50 rows.
def fmt_date(value: date | datetime | None) -> str:
    """'2 ធ្នូ 2026' / 'Dec 2, 2026'; datetimes in Cambodia's time."""
    if value is None:
        return ""
    locale = get_locale() or _DEFAULT_LOCALE
    if isinstance(value, datetime):
        return babel_dates.format_datetime(value, "medium", tzinfo=_ZONE, locale=locale)
    return babel_dates.format_date(value, "medium", locale=locale)


def fmt_number(value: Any) -> str:
    if value is None:
        return ""
    return babel_numbers.format_decimal(value, locale=get_locale() or _DEFAULT_LOCALE)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    Babel(app, locale_selector=select_language, default_translation_directories="web/translations")
    app.jinja_env.globals.update(
        page_language=page_language, fmt_date=fmt_date, fmt_number=fmt_number, now=utcnow
    )
