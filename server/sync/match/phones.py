"""Phone evidence of a pair: only own or family phones count, less as time passes (prepaid
numbers are reissued), and little when many women give the same number (a bar's or an
employer's phone recorded as "own": recognised from the data, issue 12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_PHONE_STALE_DAYS = 730
#: A number held by this many other records is a shared one (a bar's, an employer's), whatever
#: the intake said about its owner. Counted from the blocking table (``ph:`` key).
SHARED_PHONE_HOLDERS = 3


@dataclass(frozen=True)
class PhoneEvidence:
    codes: tuple[str, ...] = ()


def score_phones(
    phone_a: str | None,
    phone_b: str | None,
    *,
    family: bool,
    seen_a: date,
    seen_b: date,
    holders: int = 0,
) -> PhoneEvidence:
    """``phone_a``/``phone_b`` are the records' own-or-family phones (None otherwise);
    ``family`` when either side is a family member's phone; ``seen_*`` the intake dates;
    ``holders`` how many other stored records give the same number.

    One level per pair: ``phone_shared_equal`` (many holders), ``phone_seen_long_ago`` (the
    same number more than two years apart), ``phone_family_equal``, ``phone_own_equal``, or
    ``phone_differs`` (two own numbers that differ: a new SIM is common, so weak)."""
    if not phone_a or not phone_b:
        return PhoneEvidence()
    if phone_a != phone_b:
        return PhoneEvidence(("phone_differs",))
    if holders >= SHARED_PHONE_HOLDERS:
        return PhoneEvidence(("phone_shared_equal",))
    if abs((seen_a - seen_b).days) > _PHONE_STALE_DAYS:
        return PhoneEvidence(("phone_seen_long_ago",))
    return PhoneEvidence(("phone_family_equal" if family else "phone_own_equal",))
