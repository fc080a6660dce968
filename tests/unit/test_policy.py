"""The staff role rules (domain.md 1.1, 1.5.4) as a table."""

from __future__ import annotations

import pytest

from server.accounts import access
from server.accounts.access import PiiAccess
from server.db.models import StaffRole

CASE, CHILD, ME, ADMIN = StaffRole.CASE, StaffRole.CHILD_PROTECTION, StaffRole.ME, StaffRole.ADMIN


@pytest.mark.parametrize(
    ("role", "reason", "expected"),
    [
        (CASE, None, PiiAccess.ROLE),
        (CHILD, None, PiiAccess.ROLE),
        (CASE, "follow-up visit", PiiAccess.ROLE),
        (ME, None, PiiAccess.NONE),
        (ME, "I really need it", PiiAccess.NONE),
        (ADMIN, None, PiiAccess.NONE),
        (ADMIN, "   ", PiiAccess.NONE),
        (ADMIN, "consent withdrawal request #12", PiiAccess.BREAK_GLASS),
    ],
)
def test_pii_access(role, reason, expected):
    assert access.pii_access(role, reason) is expected
    assert access.pii_access(role, reason).granted is (expected is not PiiAccess.NONE)


@pytest.mark.parametrize(
    ("category", "restricted", "visible_to"),
    [
        ("child_protection", True, {CHILD}),
        ("child_protection", False, {CHILD}),  # the category alone restricts it
        ("trafficking", True, {CHILD}),  # so does the flag alone
        ("trafficking", False, {CASE, CHILD, ME, ADMIN}),
        ("health", False, {CASE, CHILD, ME, ADMIN}),
    ],
)
def test_referral_visible(category, restricted, visible_to):
    assert {r for r in StaffRole if access.referral_visible(r, category, restricted)} == visible_to


def test_only_case_roles_review_duplicates():
    assert set(access.REVIEW_ROLES) == {CASE, CHILD}


def test_normalise_reason():
    assert access.normalise_reason(None) is None
    assert access.normalise_reason(" \t ") is None
    assert access.normalise_reason("  audit\n request ") == "audit request"
    with pytest.raises(ValueError):
        access.normalise_reason("x" * 501)
