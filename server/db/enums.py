"""Account roles and form states: plain enums, importable without SQLAlchemy.

The models store them (server/db/models re-exports each under its usual name); the command line
offers them as choices, and `sahakum --help` must not pay for loading the ORM to list them.
"""

from __future__ import annotations

import enum


class CollectorRole(enum.StrEnum):
    PEER_EDUCATOR = "peer_educator"
    VILLAGE = "village"


class StaffRole(enum.StrEnum):
    """domain.md 1.1: admin, staff_case, staff_child, staff_me."""

    ADMIN = "admin"
    CASE = "case"
    CHILD_PROTECTION = "child_protection"
    ME = "me"


class FormState(enum.StrEnum):
    OPEN = "open"
    CLOSING = "closing"  # still accepts submissions, hidden from the form list
    CLOSED = "closed"
