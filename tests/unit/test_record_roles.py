"""Who enters which staff records: one rule (server.accounts.access.can_enter_records)."""

from __future__ import annotations

from server.accounts import access
from server.db.models import StaffRole
from server.reports.import_kinds import KINDS


def test_me_role_enters_code_only_kinds_including_deposits() -> None:
    mine = {k for k in KINDS if access.can_enter_records(StaffRole.ME, k)}
    assert mine == {"courses", "sessions", "attendance", "savings_deposits"}


def test_case_and_admin_enter_every_kind_child_protection_none() -> None:
    for kind in KINDS:
        assert access.can_enter_records(StaffRole.CASE, kind)
        assert access.can_enter_records(StaffRole.ADMIN, kind)
        assert not access.can_enter_records(StaffRole.CHILD_PROTECTION, kind)
    assert set(access.RECORD_ROLES) == {StaffRole.ADMIN, StaffRole.CASE, StaffRole.ME}


def test_me_record_kinds_exist() -> None:
    assert set(KINDS) >= access.ME_RECORD_KINDS  # a renamed kind must not silently drop out
