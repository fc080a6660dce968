"""Phone evidence of a pair: only own or family phones count, and less as time passes
(prepaid numbers are reissued)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_PHONE_STALE_DAYS = 730


@dataclass(frozen=True)
class PhoneEvidence:
    codes: tuple[str, ...] = ()
    factor: float = 1.0  # multiplies the phone weights


def score_phones(
    phone_a: str | None,
    phone_b: str | None,
    *,
    family: bool,
    seen_a: date,
    seen_b: date,
) -> PhoneEvidence:
    """``phone_a``/``phone_b`` are the records' own-or-family phones (None otherwise);
    ``family`` when either side is a family member's phone; ``seen_*`` the intake dates."""
    if not phone_a or phone_a != phone_b:
        return PhoneEvidence()
    code = "phone_family_equal" if family else "phone_own_equal"
    if abs((seen_a - seen_b).days) > _PHONE_STALE_DAYS:
        return PhoneEvidence((code, "phone_seen_long_ago"), 0.5)
    return PhoneEvidence((code,))
