"""The `web` blueprint every staff page is on, its static files, and the page menu."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, url_for

from server.api import auth as api_auth
from server.demo_data import demo_loaded
from server.web import column_labels, import_reasons, labels, security

STATIC_DIR = Path(__file__).parent / "static"
STATIC_MAX_AGE = 365 * 24 * 3600

web = Blueprint("web", __name__, template_folder="templates")
web.before_request(security.before_request)
web.after_request(security.after_request)
web.teardown_request(security.teardown_request)
web.register_error_handler(Exception, security.handle_error)

# Static files on their own blueprint: no session, no database, no sign-in check.
static_bp = Blueprint("web_static", __name__, static_folder="static", static_url_path="/static")


@static_bp.after_request
def _long_cache(response: Response) -> Response:
    # URLs carry the file's content hash (static_url), so a changed file has a new URL.
    if response.status_code == 200:
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = STATIC_MAX_AGE
        response.cache_control.immutable = True
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@cache
def _file_hash(filename: str) -> str:
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]


def static_url(filename: str) -> str:
    return url_for("web_static.static", filename=filename, v=_file_hash(filename))


@dataclass(frozen=True)
class MenuItem:
    endpoint: str
    label: Any  # a lazy_gettext string: translated when the page is rendered


MENU: list[MenuItem] = []


def menu_item(endpoint: str, label: Any) -> None:
    """Add a screen to the menu (in call order). It is shown to the roles its view allows
    (``roles_required``), and only once the view is registered."""
    MENU.append(MenuItem(endpoint, label))


def visible_menu(role: Any) -> list[tuple[MenuItem, str]]:
    items = []
    for item in MENU:
        view = current_app.view_functions.get(item.endpoint)
        if view is None:
            continue
        allowed = getattr(view, "sahakum_roles", None)
        if allowed is None or role in allowed:
            items.append((item, url_for(item.endpoint)))
    return items



@web.context_processor
def _page_context() -> dict[str, Any]:
    staff = security.current_staff()
    return {
        "staff": staff,
        "menu": visible_menu(staff.role) if staff is not None else [],
        "static_url": static_url,
        "demo_data": demo_loaded(api_auth.db_session()),
        **labels.TEMPLATE_GLOBALS,
        **column_labels.TEMPLATE_GLOBALS,
        **import_reasons.TEMPLATE_GLOBALS,
    }
