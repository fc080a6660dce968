"""Staff web sign-in: argon2id password hashes, one-time set-up links and the lockout rule.

The lockout is kept on the staff row (not in a process) because several app processes share
one database: 5 failed sign-ins in a row lock the account for 15 minutes, whichever process
saw them. Functions take a Session and flush; the caller commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import errors
from server.accounts.tokens import generate_token, hash_token, well_formed
from server.db.models import StaffUser, utcnow

MIN_PASSWORD_LENGTH = 12
# argon2 hashes whatever it is given; a cap keeps a megabyte "password" from costing CPU.
MAX_PASSWORD_LENGTH = 1024
MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=15)
SETUP_LINK_VALIDITY = timedelta(hours=24)

# argon2id with the library's defaults (RFC 9106 "second recommended": t=3, m=64 MiB, p=4).
PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
# Verified against when the account does not exist, so the reply time does not reveal which
# account names exist.
_DUMMY_HASH = PRODUCTION_HASHER.hash("not a real password, only for timing")


class SignIn(enum.Enum):
    OK = "ok"
    REFUSED = "refused"  # unknown account, wrong password, no password set, revoked
    LOCKED = "locked"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    user: StaffUser | None = None


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise errors.PasswordTooShort()
    if len(password) > MAX_PASSWORD_LENGTH:
        raise errors.PasswordTooLong()


def hash_password(password: str) -> str:
    check_new_password(password)
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """Set a new password; ends any set-up link and lockout (an administrator's reset)."""
    user.password_hash = hash_password(password)
    user.password_set_at = utcnow()
    user.setup_token_hash = None
    user.setup_expires_at = None
    user.failed_signins = 0
    user.locked_until = None
    session.flush()


def issue_setup_token(session: Session, user: StaffUser, now: datetime | None = None) -> str:
    """A one-time secret for the set-up link (returned once, stored hashed), valid 24 hours.
    Issuing a new one ends the previous link."""
    token = generate_token()
    user.setup_token_hash = hash_token(token)
    user.setup_expires_at = (now or utcnow()) + SETUP_LINK_VALIDITY
    session.flush()
    return token


def setup_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/setup/{token}"


def find_setup_user(session: Session, token: str, now: datetime | None = None) -> StaffUser | None:
    """The account a set-up link belongs to, or None (unknown, used, expired or revoked)."""
    if not well_formed(token):
        return None
    user = session.scalar(select(StaffUser).where(StaffUser.setup_token_hash == hash_token(token)))
    if user is None or not user.active or user.setup_expires_at is None:
        return None
    if user.setup_expires_at <= (now or utcnow()):
        return None
    return user


def sign_in(session: Session, name: str, password: str, now: datetime | None = None) -> SignInResult:
    """Check a sign-in and count failures. The staff row is locked for the check, so two
    processes counting failures at the same moment cannot both write 'one more' over the same
    old count (SQLite serialises writers anyway)."""
    now = now or utcnow()
    user = session.scalar(
        select(StaffUser).where(StaffUser.name == name.strip()).with_for_update()
    ) if name.strip() else None
    if user is None or not user.active:
        _verify(None, password)
        return SignInResult(SignIn.REFUSED)
    if user.locked_until is not None and user.locked_until > now:
        # The right password does not open a locked account either; no counting while locked.
        _verify(None, password)
        return SignInResult(SignIn.LOCKED, user)
    if not _verify(user.password_hash, password):
        user.failed_signins = (user.failed_signins or 0) + 1
        if user.failed_signins >= MAX_FAILED_SIGNINS:
            user.locked_until = now + LOCKOUT
            user.failed_signins = 0
            session.flush()
            return SignInResult(SignIn.LOCKED, user)
        session.flush()
        return SignInResult(SignIn.REFUSED)
    user.failed_signins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return SignInResult(SignIn.OK, user)
