"""Staff accounts (bearer tokens, stored hashed) and the audit log of what staff read and change.

Functions take a Session and flush; the caller (CLI command, request handler) commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import errors
from server.accounts.tokens import NAME_RE, generate_token, hash_token, well_formed
from server.db.models import AuditEntry, StaffRole, StaffUser, utcnow


def create_staff(session: Session, name: str, role: StaffRole) -> tuple[StaffUser, str]:
    """Create an account; returns it with its token (shown once, never stored in clear)."""
    if not NAME_RE.match(name):
        raise errors.StaffNameInvalid()
    # The command line's audit actor is reserved: a person holding that name would be named as
    # the one who ran every shell export.
    if name == COMMAND_LINE_ACCOUNT or session.scalar(
        select(StaffUser.id).where(StaffUser.name == name)
    ) is not None:
        raise errors.StaffNameTaken()
    token = generate_token()
    user = StaffUser(name=name, role=role, token_hash=hash_token(token))
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise errors.StaffNameTaken() from None
    return user, token


# The account the audit log names for what is read with `sahakum` on the server's shell (exports,
# reports): the shell has no staff sign-in, and every entry needs an actor. It is created revoked,
# with a token nobody was given, so nobody can sign in as it.
COMMAND_LINE_ACCOUNT = "command-line"


def command_line_actor(session: Session) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.name == COMMAND_LINE_ACCOUNT))
    if user is not None:
        return user
    user = StaffUser(name=COMMAND_LINE_ACCOUNT, role=StaffRole.ADMIN, token_hash=hash_token(generate_token()),
                     revoked_at=utcnow())
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:  # another command created it meanwhile
        user = session.scalars(select(StaffUser).where(StaffUser.name == COMMAND_LINE_ACCOUNT)).one()
    return user


def find_active_staff(session: Session, token: str) -> StaffUser | None:
    """The account for a bearer token, or None. Lookup is by the token's SHA-256, so the
    comparison never touches the secret itself (no timing side channel on the token)."""
    if not well_formed(token):
        return None
    user = session.scalar(select(StaffUser).where(StaffUser.token_hash == hash_token(token)))
    if user is None or not user.active:
        return None
    return user


def revoke_staff(session: Session, name: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.name == name))
    if user is None:
        raise errors.StaffNotFound()
    if user.revoked_at is None:
        user.revoked_at = utcnow()
        session.flush()
    return user


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.name)))


def audit(
    session: Session,
    actor: StaffUser,
    action: str,
    object_type: str,
    object_ids: Iterable[uuid.UUID | str],
    *,
    reason: str | None = None,
    request_id: str | None = None,
) -> None:
    """Record that `actor` did `action` on each object (ids or codes only, never names)."""
    now = utcnow()
    rows = [
        {"actor_id": actor.id, "action": action, "object_type": object_type,
         "object_id": str(object_id), "reason": reason, "request_id": request_id, "at": now}
        for object_id in object_ids
    ]  # fmt: skip
    if rows:
        # One multi-row INSERT (nothing reads the ids): a page of 50 pairs audits 100 members.
        session.execute(insert(AuditEntry), rows)
