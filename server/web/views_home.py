"""`/`: the sign-in page when signed out, the person's work queue when signed in.

The counts come from ``server.casework.workqueue.work_queue`` (the JSON API's too), which
respects what the role may see. Each count links to the list it counts, when that list's page
exists and the person's role may open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import lazy_gettext as _l

from server.api import auth as api_auth
from server.casework.workqueue import work_queue
from server.db.models import StaffRole
from server.web import security
from server.web.blueprint import menu_item, web
from server.web.views_account import render_signin

menu_item("web.home", _l("Work queue"))


@dataclass(frozen=True)
class Tile:
    label: Any
    count: int
    href: str | None
    urgent: bool = False


# (WorkQueue field, label, target endpoint, query of the target list, urgent when non-zero)
TILES: tuple[tuple[str, Any, str, dict[str, str], bool], ...] = (
    ("urgent_referrals_new", _l("Urgent referrals waiting to be acknowledged"), "web.referrals",
     {"priority": "urgent", "status": "new"}, True),
    ("urgent_referrals_overdue", _l("Urgent referrals past the 24-hour target"), "web.referrals",
     {"overdue": "1"}, True),
    ("referrals_open", _l("Open referrals"), "web.referrals", {}, False),
    ("submissions_to_review", _l("New submissions to review"), "web.submissions",
     {"review_state": "received"}, False),
    ("duplicate_pairs_pending", _l("Possible duplicates to review"), "web.duplicates", {}, False),
    ("visit_duplicates_pending", _l("Possible duplicate visits to decide"), "web.visit_duplicates", {},
     False),
    ("village_corrections_pending", _l("Village-report corrections waiting"), "web.village_reports",
     {}, False),
    ("merges_failed", _l("Submissions that could not be merged"), "web.submissions",
     {"state": "merge_failed"}, True),
    ("answers_to_correct", _l("Submissions with answers to correct"), "web.submissions",
     {"to_correct": "yes"}, False),
)


def _link(endpoint: str, query: dict[str, str], role: StaffRole) -> str | None:
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    allowed = getattr(view, "sahakum_roles", None)
    if allowed is not None and role not in allowed:
        return None
    return url_for(endpoint, **query)


def tiles(role: StaffRole) -> list[Tile]:
    queue = work_queue(api_auth.db_session(), role)
    return [
        Tile(label, getattr(queue, field), _link(endpoint, query, role), urgent and getattr(queue, field) > 0)
        for field, label, endpoint, query, urgent in TILES
    ]


@web.get("/")
def home() -> Any:
    staff = security.current_staff()
    if staff is None:
        return render_signin()
    return render_template("home.html", tiles=tiles(staff.role))
