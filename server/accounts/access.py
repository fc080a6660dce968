"""Who may see what: the staff role rules of domain.md 1.1 and 1.5, in one place, as pure functions.

| role             | names/phones/dob/origin (PII)        | child-protection referrals | duplicate review |
|------------------|--------------------------------------|----------------------------|------------------|
| case             | yes (audited)                        | no                         | yes              |
| child_protection | yes (audited)                        | yes (audited)              | yes              |
| admin            | only with a break-glass reason       | no                         | no               |
| me               | never                                | no                         | no               |

Staff records (entered on the record pages or imported): case workers and admin enter every kind;
the `me` role enters the kinds identified by codes alone (``ME_RECORD_KINDS``): courses, sessions,
attendance, and savings deposits, which name the book by its number and never show its holder.

Every role may list submissions, workplaces (no PII on them) and the referrals it is allowed to
see; a referral's reporter is shown only together with PII. Child-protection referrals are those
with category ``child_protection`` or the ``restricted`` flag; other roles never see them, not
even in counts or in the "cases" a submission created.
"""

from __future__ import annotations

import enum

from server.db.models import StaffRole

CHILD_PROTECTION_CATEGORY = "child_protection"
MAX_REASON_LENGTH = 500


class PiiAccess(enum.Enum):
    NONE = "none"
    ROLE = "role"  # case and child_protection: PII is part of the job (still audited)
    BREAK_GLASS = "break_glass"  # admin with a stated reason (audited with the reason)

    @property
    def granted(self) -> bool:
        return self is not PiiAccess.NONE


def normalise_reason(reason: str | None) -> str | None:
    """A stated reason, stripped; None when blank. Too long raises ValueError."""
    if reason is None:
        return None
    reason = " ".join(reason.split())
    if not reason:
        return None
    if len(reason) > MAX_REASON_LENGTH:
        raise ValueError("reason too long")
    return reason


def pii_access(role: StaffRole, reason: str | None = None) -> PiiAccess:
    """Whether `role` sees names, nicknames, phones, dates of birth and origin (domain.md 1.5.4)."""
    if role in (StaffRole.CASE, StaffRole.CHILD_PROTECTION):
        return PiiAccess.ROLE
    if role is StaffRole.ADMIN and normalise_reason(reason):
        return PiiAccess.BREAK_GLASS
    return PiiAccess.NONE


def is_restricted_referral(category: str, restricted: bool) -> bool:
    return restricted or str(category) == CHILD_PROTECTION_CATEGORY


def sees_restricted_referrals(role: StaffRole) -> bool:
    """Child-protection cases are visible to the child-protection role only (domain.md 1.5.4)."""
    return role is StaffRole.CHILD_PROTECTION


def referral_visible(role: StaffRole, category: str, restricted: bool) -> bool:
    return sees_restricted_referrals(role) or not is_restricted_referral(category, restricted)


def can_review_duplicates(role: StaffRole) -> bool:
    """Merging, rejecting and undoing person merges needs the PII evidence: case workers only."""
    return role in (StaffRole.CASE, StaffRole.CHILD_PROTECTION)


def can_work_cases(role: StaffRole) -> bool:
    """Reviewing submissions and acting on referrals needs the answers (PII): case workers only.
    Admin may read with a break-glass reason but does not decide; `me` never sees answers."""
    return role in (StaffRole.CASE, StaffRole.CHILD_PROTECTION)


# The M&E officer enters these herself (issue 8: "enters a month of sessions and savings
# deposits"). Each row names its records by code only, so she needs no names to enter them;
# kinds whose rows carry names or phones (gatekeepers) or create people and cases stay with
# case workers.
ME_RECORD_KINDS = frozenset({"courses", "sessions", "attendance", "savings_deposits"})


_ALL_RECORD_KINDS_ROLES = (StaffRole.ADMIN, StaffRole.CASE)


def can_enter_records(role: StaffRole, kind: str) -> bool:
    """May `role` enter, import and undo staff records of this kind (web, API, one rule)?"""
    if role in _ALL_RECORD_KINDS_ROLES:
        return True
    return role is StaffRole.ME and kind in ME_RECORD_KINDS


REVIEW_ROLES: tuple[StaffRole, ...] = tuple(r for r in StaffRole if can_review_duplicates(r))
ALL_ROLES: tuple[StaffRole, ...] = tuple(StaffRole)
CASE_ROLES: tuple[StaffRole, ...] = tuple(r for r in StaffRole if can_work_cases(r))
# Roles that reach the record and import pages at all (which kinds: can_enter_records).
RECORD_ROLES: tuple[StaffRole, ...] = (*_ALL_RECORD_KINDS_ROLES, StaffRole.ME)
