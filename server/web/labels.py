"""Staff-facing words for the codes stored in the database (roles, statuses, kinds), per language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from server.db.models import StaffRole
from server.db.models.cases import EntityType, MemberStatus, PairStatus

ROLE_LABELS: dict[str, Any] = {
    StaffRole.ADMIN: _l("Administrator"),
    StaffRole.CASE: _l("Case worker"),
    StaffRole.CHILD_PROTECTION: _l("Child protection"),
    StaffRole.ME: _l("Monitoring and evaluation"),
}
PAIR_STATUS_LABELS: dict[str, Any] = {
    PairStatus.PENDING: _l("Waiting for review"),
    PairStatus.MERGED: _l("Merged"),
    PairStatus.REJECTED: _l("Not the same"),
}
ENTITY_LABELS: dict[str, Any] = {
    EntityType.MEMBER: _l("Member"),
    EntityType.WORKPLACE: _l("Workplace"),
    EntityType.REFERRAL: _l("Referral"),
    EntityType.VILLAGE_REPORT: _l("Village report"),
    EntityType.VISIT: _l("Workplace visit"),
}
MEMBER_STATUS_LABELS: dict[str, Any] = {
    MemberStatus.ACTIVE: _l("Active"),
    MemberStatus.LEFT_SECTOR: _l("Left the sector"),
    MemberStatus.MOVED_AWAY: _l("Moved away"),
    MemberStatus.LOST_CONTACT: _l("Lost contact"),
    MemberStatus.WITHDRAWN: _l("Consent withdrawn"),
    MemberStatus.MERGED: _l("Merged into another record"),
}


def _lookup(table: dict[str, Any]) -> Any:
    def label(code: Any) -> str:
        return str(table.get(str(code), code))

    return label


TEMPLATE_GLOBALS = {
    "role_label": _lookup(ROLE_LABELS),
    "pair_status_label": _lookup(PAIR_STATUS_LABELS),
    "entity_label": _lookup(ENTITY_LABELS),
    "member_status_label": _lookup(MEMBER_STATUS_LABELS),
}
