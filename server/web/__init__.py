"""The staff web application: server-rendered pages (Jinja), Khmer by default, at ``/``.

Views are thin: they read the form, call the same domain function as the JSON API
(``server.casework``, ``server.sync.review``, ``server.accounts``) and render. Every page works
with JavaScript off. Pages live on the one ``web`` blueprint (``server.web.blueprint``); a new
screen is a module that adds routes to it, is imported in :func:`init_web`, and protects its
views with ``roles_required`` (which also decides whether its menu entry is shown).
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from server.web import i18n

csrf = CSRFProtect()


def init_web(app: Flask) -> None:
    settings = app.config["SAHAKUM"]
    secure = bool(settings.base_url and settings.base_url.startswith("https://"))
    app.config.update(
        SESSION_COOKIE_NAME="sahakum_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
    )
    # CSRF is checked by the web blueprint on each of its POSTs (security.before_request), not
    # app-wide: Collect's OpenRosa POSTs and bearer-token API calls carry no cookies to forge.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # The token lives as long as the session (the idle timeout ends both).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    i18n.init_i18n(app)

    # Imported for their routes; the menu follows this order.
    from server.web import views_home  # noqa: F401
    from server.web import views_submissions, views_referrals  # noqa: F401  isort: skip
    from server.web import views_account, views_duplicates  # noqa: F401  isort: skip
    from server.web import views_field_review  # noqa: F401  isort: skip
    from server.web import views_reports, views_imports, views_exports  # noqa: F401  isort: skip
    from server.web import views_unfit  # noqa: F401  isort: skip
    from server.web.blueprint import static_bp, web

    app.register_blueprint(static_bp)
    app.register_blueprint(web)
