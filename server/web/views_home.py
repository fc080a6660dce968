"""`/`: the sign-in page when signed out, the person's work queue when signed in."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from server.web import security
from server.web.blueprint import menu_item, web
from server.web.views_account import render_signin

menu_item("web.home", _l("Work queue"))


@web.get("/")
def home() -> Any:
    staff = security.current_staff()
    if staff is None:
        return render_signin()
    return render_template("home.html", queue=None)
