"""Bearer-token authentication for the staff JSON API, and the per-request database session.

Staff clients are not ODK Collect, so a missing or unknown token answers 401 with
``WWW-Authenticate: Bearer`` (RFC 6750 section 3); the OpenRosa side answers 403 instead,
because a 401 makes Collect prompt for a password. Tokens are never logged.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from server import errors
from server.accounts import access
from server.accounts.staff import find_active_staff
from server.db.models import StaffRole, StaffUser

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
REASON_HEADER = "X-Sahakum-Reason"
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def db_session() -> Session:
    """The request's session, in a transaction committed after a successful response."""
    session: Session | None = g.get("sahakum_session")
    if session is None:
        # A staff read may end with an audit write in the same transaction. On SQLite a
        # transaction that has read cannot start writing once another connection has committed
        # (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out), so there the request
        # takes the write lock up front and concurrent staff requests queue instead of failing.
        # PostgreSQL is unaffected (lock_for_write only changes SQLite's BEGIN).
        session = current_app.extensions["sahakum_db"].session(lock_for_write=True)
        session.begin()
        g.sahakum_session = session
    return session


def request_id() -> str:
    rid: str | None = g.get("sahakum_request_id")
    if rid is None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        rid = sent if _REQUEST_ID_RE.match(sent) else uuid.uuid4().hex
        g.sahakum_request_id = rid
    return rid


def authenticate() -> None:
    """`before_request` of every staff blueprint: resolve the bearer token or answer 401."""
    request_id()  # assign it first: the 401 reply carries it too
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.StaffUnauthenticated()
    staff = find_active_staff(db_session(), token.strip())
    if staff is None:
        log.info("staff API: unknown or revoked token (request %s)", request_id())
        raise errors.StaffUnauthenticated()
    g.sahakum_staff = staff


def finish_request(response: Response) -> Response:
    """`after_request`: commit what the view did (audit entries included) or roll it back.

    The commit happens before the response leaves: if the audit entry for a PII read cannot be
    written, the read fails (the error handler turns the exception into a 500).
    """
    session: Session | None = g.pop("sahakum_session", None)
    if session is not None:
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def close_session(_exc: BaseException | None) -> None:
    """`teardown_request`: never leave a session open (e.g. after an unhandled exception)."""
    session: Session | None = g.pop("sahakum_session", None)
    if session is not None:
        session.rollback()
        session.close()


def current_staff() -> StaffUser:
    staff: StaffUser | None = g.get("sahakum_staff")
    if staff is None:
        raise errors.StaffUnauthenticated()
    return staff


def require_roles(*roles: StaffRole) -> Callable[[F], F]:
    """Allow the view only to these roles (403 otherwise). Keeps the smorest doc attributes."""
    allowed = frozenset(roles)

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_staff().role not in allowed:
                raise errors.StaffForbidden()
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def stated_reason() -> str | None:
    """The reason staff gave for reading PII (header, never the URL: it is free text)."""
    try:
        return access.normalise_reason(request.headers.get(REASON_HEADER))
    except ValueError:
        raise errors.RequestInvalid(
            f"{REASON_HEADER} is longer than {access.MAX_REASON_LENGTH} characters."
        ) from None


def pii_access() -> access.PiiAccess:
    return access.pii_access(current_staff().role, stated_reason())


def audit(action: str, object_type: str, object_ids: Any, note: str | None = None) -> None:
    """Write audit entries for the current staff member, in the request's transaction. The
    reason is the decision's note, else the X-Sahakum-Reason header."""
    from server.accounts.staff import audit as write_audit

    write_audit(
        db_session(),
        current_staff(),
        action,
        object_type,
        object_ids,
        reason=access.normalise_reason(note) or stated_reason(),
        request_id=request_id(),
    )


def check_if_match(current_etag: str) -> None:
    """Refuse a change made on stale information: 428 without If-Match, 412 when it differs."""
    sent = request.headers.get("If-Match")
    if not sent:
        raise errors.PreconditionRequired()
    # "*": any current version will do (RFC 9110 13.1.1); the record exists, so it matches.
    if sent.strip() not in {current_etag, "W/" + current_etag, "*"}:
        raise errors.PreconditionFailed()
