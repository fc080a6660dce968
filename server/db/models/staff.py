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
