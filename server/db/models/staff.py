"""Staff accounts for the JSON API and the audit log of what they read and changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.enums import StaffRole
from server.db.models.base import Base, UTCDateTime, str_enum, utcnow


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # An account label chosen by the admin; shown in the audit log.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[StaffRole] = mapped_column(
        str_enum(StaffRole, 32)
    )
    # SHA-256 of the bearer token (48 random bytes): a fast hash is enough, lookup is by hash.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Web sign-in (server.accounts.passwords): an argon2id hash; None until the person chose one.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # SHA-256 of the one-time set-up link's secret, and when that link stops working.
    setup_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Lockout lives in the database, not in a process: several app processes share it.
    failed_signins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The web pages' language chosen by this person ("km" or "en"); None: not chosen yet.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(Base):
    """Who read or changed what, when and why. Object ids are UUIDs or codes, never names."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "member.read", "member.merge"
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[StaffUser] = relationship()
