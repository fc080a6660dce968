"""Staff case work on submissions and referrals: review history, comments, referral events, and
the configurable list of services staff refer cases to (domain.md 2.2, "Referral / case").

Rows here are append-only records of staff decisions; the current state lives on the
submission or referral itself. Notes and comments are free text written by staff (S): stored,
shown to staff, never logged or put in URLs.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, UTCDateTime, str_enum, utcnow
from server.db.models.staff import StaffUser
from server.db.models.submissions import ReviewState


class SubmissionReview(Base):
    """One review decision: the state a staff member set, with their note."""

    __tablename__ = "submission_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), index=True)
    state: Mapped[ReviewState] = mapped_column(str_enum(ReviewState))
    previous_state: Mapped[ReviewState] = mapped_column(str_enum(ReviewState))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[StaffUser] = relationship()


class SubmissionComment(Base):
    __tablename__ = "submission_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"), index=True)
    body: Mapped[str] = mapped_column(Text)  # S
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[StaffUser] = relationship()


class ReferralEventKind(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    CLOSED = "closed"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    NOTE = "note"


class ReferralEvent(Base):
    """A staff action on a referral (transition, assignment, note): its case history."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[ReferralEventKind] = mapped_column(str_enum(ReferralEventKind, 16))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # S
    # Codes only: referred_to, outcome, outcome_by, assignee_id.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[StaffUser] = relationship()


class ReferralService(Base):
    """Where staff refer a case (configurable data, not code: domain.md 2.2)."""

    __tablename__ = "referral_services"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    # health, legal, police, social, shelter, labour, livelihood, other
    kind: Mapped[str] = mapped_column(String(16))
    name_km: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
